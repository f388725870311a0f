"""Parameter table and model matrices for confirmatory factor models (LISREL all-y form).

Model (per group):  Sigma = Lambda A Psi A' Lambda' + Theta,  A = (I - B)^-1,
                    mu    = nu + Lambda A alpha.
Observed indicators load on latents through Lambda; latents measured by other
latents (second-order factors) and latent regressions sit in B.  This is the
representation lavaan uses for the same syntax (Rosseel 2012).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._exceptions import ModelSpecificationError
from .syntax import Statement, parse_model

GROUP_EQUAL_TYPES = (
    "thresholds", "loadings", "intercepts", "residuals", "residual.covariances",
    "lv.variances", "lv.covariances", "means", "regressions",
)


@dataclass
class Row:
    lhs: str
    op: str
    rhs: str
    group: int
    mat: str  # L (Lambda), B (Beta), P (Psi), T (Theta), N (nu), A (alpha)
    r: int
    c: int
    value: float | None = None  # fixed value, or None when free
    label: str | None = None
    start: float | None = None
    user: bool = True  # written by the user (False: added by default rules)
    auto_marker: bool = False
    free: int = 0  # 1-based index into the free-parameter vector, 0 if fixed
    kind: str = ""  # loadings, intercepts, residuals, ... (for group_equal)


@dataclass
class ModelSpec:
    ov: list[str]
    lv: list[str]
    rows: list[Row]
    n_groups: int
    meanstructure: bool
    n_free: int
    endogenous: list[str] = field(default_factory=list)
    group_labels: list[str] = field(default_factory=list)
    #: lavaan's group.equal; "thresholds" is read by the ordinal estimator
    group_equal: tuple[str, ...] = ()

    @property
    def p(self) -> int:
        return len(self.ov)

    @property
    def m(self) -> int:
        return len(self.lv)


def _kind(mat: str, r: int, c: int) -> str:
    return {
        "L": "loadings", "B": "regressions", "N": "intercepts", "A": "means",
        "T": "residuals" if r == c else "residual.covariances",
        "P": "lv.variances" if r == c else "lv.covariances",
    }[mat]


def _column_summary(columns: Sequence[str], limit: int = 160) -> str:
    """Columns in few characters: runs such as P1..P25 collapsed, the list cut at ``limit``."""
    out: list[str] = []
    run: list[tuple[str, int, str]] = []  # (prefix, number, name) of a run of consecutive numbers

    def flush() -> None:
        if len(run) > 2:
            out.append(f"{run[0][2]}..{run[-1][2]}")
        else:
            out.extend(r[2] for r in run)
        run.clear()

    for c in map(str, columns):
        m = re.fullmatch(r"(.*?)(\d+)", c)
        if m and run and m.group(1) == run[-1][0] and int(m.group(2)) == run[-1][1] + 1:
            run.append((m.group(1), int(m.group(2)), c))
            continue
        flush()
        if m:
            run.append((m.group(1), int(m.group(2)), c))
        else:
            out.append(c)
    flush()
    text = ""
    for i, part in enumerate(out):
        piece = (", " if text else "") + (part if len(part) <= 40 else part[:37] + "...")
        if len(text) + len(piece) > limit:
            return text + f" and {len(out) - i} more"
        text += piece
    return text


def _short_list(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _undefined_message(name: str, line: int, lv: Sequence[str], observed: Sequence[str]) -> str:
    factors = _short_list(lv)
    hint = difflib.get_close_matches(name, [*lv, *map(str, observed)], n=1)
    return (f"line {line}: unknown variable {name!r}: neither a factor defined with =~ ({factors}) nor a column of the data"
            + (f"; did you mean {hint[0]!r}?" if hint else "")
            + f" (columns: {_column_summary(observed) or 'none'})")


def build_spec(
    model: str | Sequence[Statement],
    *,
    n_groups: int = 1,
    group_labels: Sequence[str] | None = None,
    std_lv: bool = False,
    meanstructure: bool = False,
    group_equal: Sequence[str] = (),
    observed: Sequence[str] | None = None,
) -> ModelSpec:
    """Parameter table of a model, with lavaan's default free and fixed parameters.

    Parameters
    ----------
    model : str or sequence of Statement
        lavaan model syntax, or statements from :func:`parse_model`.
    n_groups, group_labels, std_lv, meanstructure, group_equal
        As lavaan's ``cfa`` arguments of the same names.
    observed : sequence of str, optional
        The columns of the data.  When given, a name that is neither a factor
        (defined with ``=~``) nor one of them is an error naming the name, its line
        and the columns, before anything else is checked.

    Returns
    -------
    ModelSpec

    Raises
    ------
    ModelSpecificationError
        Naming the line of the offending statement.
    """
    statements = parse_model(model) if isinstance(model, str) else list(model)
    bad = [g for g in group_equal if g not in GROUP_EQUAL_TYPES]
    if bad:
        raise ModelSpecificationError(f"unknown group_equal {bad}; choose from {', '.join(GROUP_EQUAL_TYPES)}")
    lv: list[str] = []
    for s in statements:
        if s.op == "=~" and s.lhs not in lv:
            lv.append(s.lhs)
    if not lv:
        raise ModelSpecificationError("the model defines no latent variable (no '=~' statement)")
    ov: list[str] = []
    first_line: dict[str, int] = {}
    for s in statements:
        names = [t.name for t in s.terms] + ([s.lhs] if s.op != "=~" else [])
        for nm in names:
            if nm not in lv and nm not in ov:
                ov.append(nm)
                first_line[nm] = s.line
    if observed is not None:
        known = set(map(str, observed))
        undefined = [v for v in ov if v not in known]
        if undefined:
            msg = _undefined_message(undefined[0], first_line[undefined[0]], lv, list(observed))
            if len(undefined) > 1:
                also = ", ".join(f"{v!r} (line {first_line[v]})" for v in undefined[1:4])
                msg += f"; also unknown: {also}" + (f" and {len(undefined) - 4} more" if len(undefined) > 4 else "")
            raise ModelSpecificationError(msg)
    for s in statements:
        if s.op == "~" and (s.lhs not in lv or any(t.name not in lv for t in s.terms)):
            obs = [v for v in [s.lhs, *(t.name for t in s.terms)] if v not in lv]
            raise ModelSpecificationError(
                f"line {s.line}: regressions involving observed variables are not supported ({s.text!r}): "
                f"{', '.join(map(repr, obs))} {'is' if len(obs) == 1 else 'are'} not a factor defined with =~ "
                f"(factors: {_short_list(lv)})"
            )
        if s.op == "~~":
            for t in s.terms:
                if (s.lhs in lv) != (t.name in lv):
                    factor, other = (s.lhs, t.name) if s.lhs in lv else (t.name, s.lhs)
                    raise ModelSpecificationError(
                        f"line {s.line}: {other!r} is not a factor defined with =~ (factors: {_short_list(lv)}), so "
                        f"{s.text.strip()!r} would be a covariance between factor {factor!r} and an observed variable, "
                        "which is not supported"
                    )
    endogenous = []
    for s in statements:
        if s.op == "=~":
            endogenous += [t.name for t in s.terms if t.name in lv]
        if s.op == "~":
            endogenous.append(s.lhs)
    endogenous = [v for v in lv if v in endogenous]
    exogenous = [v for v in lv if v not in endogenous]
    oi = {v: i for i, v in enumerate(ov)}
    li = {v: i for i, v in enumerate(lv)}

    def place(lhs: str, op: str, rhs: str) -> tuple[str, int, int]:
        if op == "=~":
            if rhs in lv:
                return "B", li[rhs], li[lhs]
            return "L", oi[rhs], li[lhs]
        if op == "~":
            return "B", li[lhs], li[rhs]
        if op == "~~":
            if lhs in lv:
                a, b = sorted((li[lhs], li[rhs]), reverse=True)
                return "P", a, b
            a, b = sorted((oi[lhs], oi[rhs]), reverse=True)
            return "T", a, b
        if op == "~1":
            return ("A", li[lhs], 0) if lhs in lv else ("N", oi[lhs], 0)
        raise AssertionError(op)

    groups = list(group_labels) if group_labels is not None else [str(g + 1) for g in range(n_groups)]
    rows: list[Row] = []
    for g in range(n_groups):
        table: dict[tuple[str, int, int], Row] = {}
        order: list[tuple[str, int, int]] = []

        def put(row: Row, _table: dict = table, _order: list = order) -> None:
            key = (row.mat, row.r, row.c)
            row.kind = _kind(row.mat, row.r, row.c)
            old = _table.get(key)
            if old is None:
                _order.append(key)
                _table[key] = row
            elif row.user:
                # a user statement overrides a default; a repeated statement's modifiers win
                _table[key] = Row(old.lhs, old.op, old.rhs, row.group, row.mat, row.r, row.c, value=row.value,
                                  label=row.label or old.label, start=row.start, user=True,
                                  auto_marker=row.auto_marker, kind=row.kind)

        seen_first: set[str] = set()
        for s in statements:
            for t in s.terms:
                lhs, op, rhs = s.lhs, s.op, t.name
                mat, r, c = place(lhs, op, rhs)
                value = t.fixed
                auto = False
                if op == "=~" and lhs not in seen_first:
                    seen_first.add(lhs)
                    if value is None and not t.free and not std_lv:
                        value, auto = 1.0, True
                # an intercept row names its variable once, as lavaan's parameter table (rhs "")
                put(Row(lhs, op, "" if op == "~1" else rhs, g, mat, r, c, value=value, label=t.label, start=t.start, user=True, auto_marker=auto))
        # defaults: residual variances, latent (residual) variances, exogenous covariances, means
        for v in ov:
            put(Row(v, "~~", v, g, "T", oi[v], oi[v], user=False))
        for v in lv:
            # std_lv: unit variances; with loadings equal across groups only in the first group, the
            # other groups' variances are free (lavaan), so the metric step does not also test them
            fixed = 1.0 if std_lv and not (g > 0 and "loadings" in group_equal) else None
            put(Row(v, "~~", v, g, "P", li[v], li[v], value=fixed, user=False))
        for a_i, a in enumerate(exogenous):
            for b in exogenous[a_i + 1 :]:
                r, c = sorted((li[a], li[b]), reverse=True)
                put(Row(a, "~~", b, g, "P", r, c, user=False))
        if meanstructure:
            for v in ov:
                put(Row(v, "~1", "", g, "N", oi[v], 0, user=False))
            for v in lv:
                free_mean = g > 0 and "intercepts" in group_equal and "means" not in group_equal
                put(Row(v, "~1", "", g, "A", li[v], 0, value=None if free_mean else 0.0, user=False))
        rows.extend(table[k] for k in order)

    # identification: every latent needs indicators and a scale
    label_owners: dict[str, set[str]] = {}
    for r in rows:
        if r.group == 0 and r.label is not None and r.value is None:
            label_owners.setdefault(r.label, set()).add(r.lhs)
    for v in lv:
        loads = [r for r in rows if r.group == 0 and r.op == "=~" and r.lhs == v]
        if not loads:
            raise ModelSpecificationError(f"latent variable {v!r} has no indicators")
        var = next(r for r in rows if r.group == 0 and r.mat == "P" and r.r == r.c == li[v])
        # a loading held equal (shared label) to a loading of another factor borrows that factor's
        # scale: the longitudinal design with E variances 1 and P variances free (Widaman et al. 2010)
        borrowed = any(r.label is not None and label_owners.get(r.label, set()) - {v} for r in loads)
        if all(r.value is None or r.value == 0 for r in loads) and var.value is None and not borrowed:
            raise ModelSpecificationError(
                f"latent variable {v!r} has no scale: fix one loading (e.g. 1*x) or its variance (std_lv=True / {v} ~~ 1*{v})"
            )

    # equality across groups (group_equal) through implicit labels tied to group 1
    if n_groups > 1 and group_equal:
        first = {(r.mat, r.r, r.c): i for i, r in enumerate(rows) if r.group == 0}
        for r in rows:
            if r.group > 0 and r.kind in group_equal and r.value is None and r.label is None:
                src = rows[first[(r.mat, r.r, r.c)]]
                if src.value is None:
                    if src.label is None:
                        src.label = f".p{first[(r.mat, r.r, r.c)] + 1}."
                    r.label = src.label
    # free parameter indices; shared labels share an index
    label_index: dict[str, int] = {}
    n_free = 0
    for r in rows:
        if r.value is not None:
            continue
        if r.label is not None and r.label in label_index:
            r.free = label_index[r.label]
            continue
        n_free += 1
        r.free = n_free
        if r.label is not None:
            label_index[r.label] = n_free
    return ModelSpec(ov=ov, lv=lv, rows=rows, n_groups=n_groups, meanstructure=meanstructure,
                     n_free=n_free, endogenous=endogenous, group_labels=groups, group_equal=tuple(group_equal))


class Matrices:
    """Model matrices of one group for a parameter vector, and derivatives of the moments."""

    def __init__(self, spec: ModelSpec, group: int):
        self.spec = spec
        self.group = group
        self.rows = [r for r in spec.rows if r.group == group]
        p, m = spec.p, spec.m
        self.shapes = {"L": (p, m), "B": (m, m), "P": (m, m), "T": (p, p), "N": (p, 1), "A": (m, 1)}

    def build(self, x: np.ndarray) -> dict[str, np.ndarray]:
        mats = {k: np.zeros(s) for k, s in self.shapes.items()}
        for r in self.rows:
            v = r.value if r.free == 0 else x[r.free - 1]
            mats[r.mat][r.r, r.c] = v
            if r.mat in ("P", "T"):
                mats[r.mat][r.c, r.r] = v
        return mats

    def implied(self, mats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        m = self.spec.m
        A = np.linalg.inv(np.eye(m) - mats["B"])
        LA = mats["L"] @ A
        Phi = A @ mats["P"] @ A.T
        sigma = LA @ mats["P"] @ LA.T + mats["T"]
        a_alpha = A @ mats["A"][:, 0]
        mu = mats["N"][:, 0] + mats["L"] @ a_alpha
        return sigma, mu, {"A": A, "LA": LA, "Phi": Phi, "LPhi": mats["L"] @ Phi, "Aalpha": a_alpha}

    def rank_two(self, aux: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every free row's dSigma as a b' + b a' (columns of ``a`` and ``b``, shape (p, rows)) and its
        free-parameter index (0-based); the same derivatives as :meth:`derivatives`, row by row.

        loading (i, j): a = e_i, b = (Lambda Phi)_j;  Theta (i, j): a = e_i, b = e_j (e_i / 2 on the
        diagonal);  Psi (i, j): a = (Lambda A)_i, b = (Lambda A)_j (halved on the diagonal);
        B (i, j): a = (Lambda A)_i, b = (Lambda Phi)_j.  Means and intercepts have no dSigma (a = b = 0).
        With these, traces such as tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) are products of small
        matrices instead of sums over p x p arrays.
        """
        p = self.spec.p
        free = [r for r in self.rows if r.free]
        a = np.zeros((p, len(free)))
        b = np.zeros((p, len(free)))
        LA, LPhi = aux["LA"], aux["LPhi"]
        for k, r in enumerate(free):
            i, j = r.r, r.c
            if r.mat == "L":
                a[i, k] = 1.0
                b[:, k] = LPhi[:, j]
            elif r.mat == "T":
                a[i, k] = 1.0
                b[j, k] += 0.5 if i == j else 1.0
            elif r.mat == "P":
                a[:, k] = LA[:, i]
                b[:, k] = LA[:, j] * (0.5 if i == j else 1.0)
            elif r.mat == "B":
                a[:, k] = LA[:, i]
                b[:, k] = LPhi[:, j]
        return a, b, np.array([r.free - 1 for r in free], dtype=np.intp)

    def derivatives(self, mats: dict[str, np.ndarray], aux: dict[str, np.ndarray], n_free: int) -> tuple[np.ndarray, np.ndarray]:
        """dSigma (n_free, p, p) and dmu (n_free, p) for the free parameters of this group."""
        p = self.spec.p
        dS = np.zeros((n_free, p, p))
        dM = np.zeros((n_free, p))
        LA, LPhi, Aal = aux["LA"], aux["LPhi"], aux["Aalpha"]
        for r in self.rows:
            if r.free == 0:
                continue
            k = r.free - 1
            i, j = r.r, r.c
            if r.mat == "L":
                u = LPhi[:, j]
                dS[k, i, :] += u
                dS[k, :, i] += u
                dM[k, i] += Aal[j]
            elif r.mat == "T":
                dS[k, i, j] += 1.0
                if i != j:
                    dS[k, j, i] += 1.0
            elif r.mat == "P":
                a, b = LA[:, i], LA[:, j]
                outer = np.outer(a, b)
                dS[k] += outer if i == j else outer + outer.T
            elif r.mat == "B":
                # dA = A dB A, so dSigma/dB_ij = (Lambda A)_i (Lambda Phi)_j' + transpose, Phi = A Psi A'
                a = LA[:, i]
                outer = np.outer(a, LPhi[:, j])
                dS[k] += outer + outer.T
                dM[k] += a * Aal[j]
            elif r.mat == "N":
                dM[k, i] += 1.0
            elif r.mat == "A":
                dM[k] += LA[:, i]
        return dS, dM
