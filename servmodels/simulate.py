"""Simulated SERVQUAL surveys from a correlated five-factor model (for examples and tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ._exceptions import ParameterError
from ._params import check_float, check_int
from .instrument import Instrument, get_instrument

__all__ = ["simulate_servqual", "as_generator", "expected_item_means"]


def as_generator(rng: int | np.random.Generator | np.random.SeedSequence | None) -> np.random.Generator:
    """Turn a seed, SeedSequence or Generator into a Generator (``None`` = fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _norm_cdf(x: np.ndarray | float) -> np.ndarray:
    return 0.5 * special.erfc(-np.asarray(x) / np.sqrt(2.0))


def _shift_for_mean(target: float, cuts: np.ndarray, lo: int, hi: int, sd: float) -> float:
    """Latent mean mu such that E[lo + #(mu + sd Z > cut)] = target (Z standard normal)."""
    eps = 1e-6
    target = float(np.clip(target, lo + eps, hi - eps))

    def f(mu: float) -> float:
        return lo + float(_norm_cdf((mu - cuts) / sd).sum()) - target

    from scipy import optimize  # imported here: scipy.optimize is slow to import

    return float(optimize.brentq(f, -20.0, 20.0, xtol=1e-12))


def _force_sum(values: np.ndarray, latent: np.ndarray, target_sum: int, lo: int, hi: int) -> None:
    """Move answers one step at a time until they sum to target_sum, keeping latent order."""
    diff = target_sum - int(values.sum())
    order = np.argsort(-latent if diff > 0 else latent, kind="stable")
    step = 1 if diff > 0 else -1
    while diff != 0:
        moved = False
        for i in order:
            if (step > 0 and values[i] < hi) or (step < 0 and values[i] > lo):
                values[i] += step
                diff -= step
                moved = True
                if diff == 0:
                    break
        if not moved:
            raise ParameterError("item means: cannot reach the requested item mean within the scale")


def simulate_servqual(
    n_respondents: int = 100,
    *,
    instrument: Instrument | str = "servqual25",
    rng: int | np.random.Generator | None = None,
    item_means: pd.DataFrame | Mapping[str, Any] | None = None,
    exact_means: bool = False,
    loading: float | Mapping[str, float] = 0.7,
    factor_correlation: float = 0.5,
    set_correlation: float = 0.4,
    village_sd: float = 0.25,
    villages: Mapping[str, int] | None = None,
    outcome: bool = True,
    latent_correlation: np.ndarray | pd.DataFrame | None = None,
    thresholds: Mapping[str, Any] | None = None,
    outcome_correlation: float = 0.7,
) -> pd.DataFrame:
    """Draw a synthetic SERVQUAL survey.

    Each score set (E, P, ...) has one latent factor per dimension; factors are
    equicorrelated within a set (``factor_correlation``) and the factor structure
    is ``kron(C_sets, R_dims)``, so a dimension's E and P factors correlate
    ``set_correlation``.  Item ``i`` of dimension ``d`` is
    ``y = loading * f_d + sqrt(1 - loading^2) * e``, cut into the Likert categories
    at equally spaced thresholds shifted to reach the item's target mean.  A
    village random effect (SD ``village_sd``) shifts the perception factors, and
    overall ``satisfaction`` is a noisy function of the mean perception factor
    on the instrument's scale.

    Parameters
    ----------
    n_respondents : int
    instrument : Instrument or str
    rng : int or numpy.random.Generator, optional
        Seed or generator; the same seed gives the same survey.
    item_means : DataFrame or mapping, optional
        Target means: a frame with ``item`` and ``perception``/``expectation``
        (or ``P``/``E``) columns, such as :func:`load_seed_table8`.  Default:
        perception at 60 % of the scale and expectation at 75 %.
    exact_means : bool
        Nudge answers (respecting the latent order) so each item's sample mean is
        the target rounded to ``1/n_respondents``.
    loading, factor_correlation, set_correlation, village_sd : float
        Model parameters.  ``loading`` may also be a mapping from every item
        column (``"E1"``, ``"P1"``, ...) to its standardized loading in (0, 1).
    villages : mapping of str to int, optional
        Respondents per village; default: the seed's Table 2 proportions.
    outcome : bool
        Add an overall ``satisfaction`` column.
    latent_correlation : array or DataFrame, optional
        The whole correlation matrix of the factors, one per score set and
        dimension in set-major order (``E:tangibles, ..., E:empathy, P:tangibles,
        ...``), instead of ``kron(C_sets, R_dims)``; must be positive definite.
    thresholds : mapping of str to sequence of float, optional
        Per item column, the ``K - 1`` cut points of the item's latent response on
        the scale of its *marginal* standard deviation (village effects included),
        e.g. ``Phi^-1`` of a pilot's cumulative answer proportions; ``-inf``/``inf``
        for categories that are never chosen.  Replaces the target mean of that column.
    outcome_correlation : float
        Correlation of latent satisfaction with the mean perception factor [0.7].

    The defaults of the last three reproduce earlier versions draw for draw.

    Returns
    -------
    DataFrame
        ``respondent_id``, ``village``, ``gender``, item columns, ``satisfaction``.

    Examples
    --------
    >>> df = simulate_servqual(50, rng=1)
    >>> df.shape
    (50, 54)
    >>> bool(df.filter(regex="^[EP][0-9]+$").isin([1, 2, 3, 4]).all().all())
    True
    """
    from .datasets import SEED_TABLE2_VILLAGES

    n_respondents = check_int("n_respondents", n_respondents, low=1)
    inst = get_instrument(instrument)
    loadings = _loadings(inst, loading)
    outcome_correlation = check_float("outcome_correlation", outcome_correlation, low=-1.0, high=1.0,
                                      low_closed=False, high_closed=False)
    cut_table = _thresholds(inst, thresholds)
    if cut_table and exact_means:
        raise ParameterError("exact_means applies to target item means, not to given thresholds")
    gen = as_generator(rng)
    lo, hi = inst.scale
    n_cat = hi - lo + 1
    sets = inst.score_sets
    dims = inst.dimension_names
    n_dim, n_set = len(dims), len(sets)

    # targets
    targets: dict[str, dict[str, float]] = {}
    default = {"E": 0.75, "P": 0.6, "M": 0.5, "D": 0.85}
    table = None
    if item_means is not None:
        table = pd.DataFrame(item_means)
        table = table.assign(item=table["item"].astype(str)).set_index("item")
    for s in sets:
        col = None
        if table is not None:
            col = next((c for c in (s, inst.set_name(s)) if c in table.columns), None)
        if table is not None and col is not None:
            targets[s] = {i: float(table.at[i, col]) for i in inst.items}  # type: ignore[arg-type]
        else:
            targets[s] = {i: lo + default.get(s, 0.6) * (hi - lo) for i in inst.items}

    # latent factors: kron(C_sets, R_dims) is a valid correlation matrix (Kronecker of PSD matrices)
    phi = _latent_correlation(inst, factor_correlation, set_correlation, latent_correlation)
    factors = gen.standard_normal((n_respondents, n_set * n_dim)) @ np.linalg.cholesky(phi).T

    # villages and gender, as in the seed's Tables 2 and 3 (82 % men)
    counts = dict(villages or SEED_TABLE2_VILLAGES)
    names = list(counts)
    if villages is None and n_respondents == sum(counts.values()):
        village = np.repeat(names, list(counts.values()))
        gen.shuffle(village)
    else:
        p = np.array(list(counts.values()), dtype=float)
        village = gen.choice(names, size=n_respondents, p=p / p.sum())
    n_men = round(0.82 * n_respondents)
    gender = np.array(["male"] * n_men + ["female"] * (n_respondents - n_men))
    gen.shuffle(gender)
    effect = dict(zip(names, gen.normal(0.0, village_sd, len(names))))
    v_shift = np.array([effect[v] for v in village])
    if "P" in sets:
        p0 = sets.index("P") * n_dim
        factors[:, p0 : p0 + n_dim] += v_shift[:, None]

    cuts = np.arange(n_cat - 1) - (n_cat - 2) / 2.0
    frame: dict[str, Any] = {
        "respondent_id": [f"R{i + 1:04d}" for i in range(n_respondents)],
        "village": village,
        "gender": gender,
    }
    for si, s in enumerate(sets):
        for d_i, d in enumerate(dims):
            f = factors[:, si * n_dim + d_i]
            for item in inst.dimensions[d]:
                col = inst.column(s, item)
                lam = loadings[col]
                latent = lam * f + np.sqrt(1 - lam**2) * gen.standard_normal(n_respondents)
                if col in cut_table:
                    # cut points given on the marginal scale: the village effect widens P's latent responses
                    marginal_sd = np.sqrt(1 + (lam * village_sd) ** 2) if s == "P" else 1.0
                    values = lo + (latent[:, None] > cut_table[col] * marginal_sd).sum(axis=1)
                else:
                    mu = _shift_for_mean(targets[s][item], cuts, lo, hi, 1.0)
                    values = lo + (latent[:, None] + mu > cuts).sum(axis=1)
                if exact_means:
                    _force_sum(values, latent, round(targets[s][item] * n_respondents), lo, hi)
                frame[inst.column(s, item)] = values.astype(np.int64)
    if outcome:
        if "P" in sets:
            p0 = sets.index("P") * n_dim
            drive = factors[:, p0 : p0 + n_dim].mean(axis=1)
        else:
            drive = factors.mean(axis=1)
        r = outcome_correlation
        latent = (drive - drive.mean()) / max(drive.std(), 1e-12) * r + np.sqrt(1 - r * r) * gen.standard_normal(n_respondents)
        mu = _shift_for_mean(lo + 0.65 * (hi - lo), cuts, lo, hi, 1.0)
        frame["satisfaction"] = (lo + (latent[:, None] + mu > cuts).sum(axis=1)).astype(np.int64)
    return pd.DataFrame(frame)


def _loadings(inst: Instrument, loading: float | Mapping[str, float]) -> dict[str, float]:
    """Every item column's standardized loading, from one number or a complete mapping."""
    columns = [inst.column(s, i) for s in inst.score_sets for i in inst.items]
    if isinstance(loading, Mapping):
        missing = [c for c in columns if c not in loading]
        if missing:
            raise ParameterError(f"loading: no loading for {', '.join(missing[:5])}"
                                 + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                                 + "; give one for every item column, or one number")
        return {c: float(check_float(f"loading[{c!r}]", loading[c], low=0.0, high=1.0, low_closed=False,
                                     high_closed=False)) for c in columns}
    value = check_float("loading", loading, low=0.0, high=1.0, low_closed=False, high_closed=False)
    return dict.fromkeys(columns, value)


def _thresholds(inst: Instrument, thresholds: Mapping[str, Any] | None) -> dict[str, np.ndarray]:
    """Checked cut points per item column: K - 1 non-decreasing values (infinite allowed, NaN not)."""
    if thresholds is None:
        return {}
    lo, hi = inst.scale
    columns = {inst.column(s, i) for s in inst.score_sets for i in inst.items}
    out = {}
    for col, cuts in thresholds.items():
        if col not in columns:
            raise ParameterError(f"thresholds: {col!r} is not an item column of the instrument")
        arr = np.asarray(cuts, dtype=float)
        if arr.shape != (hi - lo,) or np.isnan(arr).any() or np.any(np.diff(arr) < 0):
            raise ParameterError(f"thresholds[{col!r}] must be {hi - lo} non-decreasing cut points for the scale "
                                 f"{lo}-{hi}; got {list(np.atleast_1d(arr))}")
        out[col] = arr
    return out


def _latent_correlation(inst: Instrument, factor_correlation: float, set_correlation: float,
                        latent_correlation: np.ndarray | pd.DataFrame | None) -> np.ndarray:
    """The factors' correlation matrix (set-major): kron(C_sets, R_dims), or the given matrix, checked."""
    n_dim, n_set = len(inst.dimension_names), len(inst.score_sets)
    if latent_correlation is None:
        # kron(C_sets, R_dims) is a valid correlation matrix (Kronecker of PSD matrices)
        r_dims = np.full((n_dim, n_dim), factor_correlation) + (1 - factor_correlation) * np.eye(n_dim)
        c_sets = np.full((n_set, n_set), set_correlation) + (1 - set_correlation) * np.eye(n_set)
        return np.kron(c_sets, r_dims)
    phi = np.asarray(latent_correlation, dtype=float)
    k = n_dim * n_set
    if phi.shape != (k, k):
        raise ParameterError(f"latent_correlation must be {k} x {k} (score sets x dimensions, set-major); "
                             f"got shape {phi.shape}")
    if not np.all(np.isfinite(phi)) or not np.allclose(phi, phi.T, atol=1e-12) or \
            not np.allclose(np.diag(phi), 1.0, atol=1e-12):
        raise ParameterError("latent_correlation must be a finite symmetric matrix with a unit diagonal")
    try:
        np.linalg.cholesky(phi)
    except np.linalg.LinAlgError:
        raise ParameterError("latent_correlation must be positive definite") from None
    return phi


def expected_item_means(
    *,
    instrument: Instrument | str = "servqual25",
    item_means: pd.DataFrame | Mapping[str, Any] | None = None,
    loading: float | Mapping[str, float] = 0.7,
    village_sd: float = 0.25,
    thresholds: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """The population mean of every item column under :func:`simulate_servqual`'s model.

    The expectation over respondents *and* village effects (without ``exact_means``):
    an item's latent response is normal with mean ``mu`` and variance
    ``1 + (loading * village_sd)**2`` for perception items (1 otherwise), so its mean
    answer is ``lo + sum_k Phi((mu - c_k) / sd)`` over the cut points ``c_k``.  These
    are the true values a Monte Carlo study compares its estimates with.

    Examples
    --------
    >>> m = expected_item_means(village_sd=0.0)
    >>> round(m["E1"], 6), round(m["P1"], 6)   # the default targets: 75 % and 60 % of the scale 1-4
    (3.25, 2.8)
    """
    inst = get_instrument(instrument)
    village_sd = check_float("village_sd", village_sd, low=0.0)
    loadings = _loadings(inst, loading)
    cut_table = _thresholds(inst, thresholds)
    lo, hi = inst.scale
    cuts = np.arange(hi - lo) - (hi - lo - 1) / 2.0
    default = {"E": 0.75, "P": 0.6, "M": 0.5, "D": 0.85}
    table = None
    if item_means is not None:
        table = pd.DataFrame(item_means)
        table = table.assign(item=table["item"].astype(str)).set_index("item")
    out = {}
    for s in inst.score_sets:
        col_name = None
        if table is not None:
            col_name = next((c for c in (s, inst.set_name(s)) if c in table.columns), None)
        for item in inst.items:
            col = inst.column(s, item)
            lam = loadings[col]
            sd = float(np.sqrt(1 + (lam * village_sd) ** 2)) if s == "P" else 1.0
            if col in cut_table:
                # cut points on the marginal scale: P(answer > k) = 1 - Phi(tau_k)
                out[col] = lo + float(special.ndtr(-cut_table[col]).sum())
                continue
            target = float(table.at[item, col_name]) if col_name is not None else lo + default.get(s, 0.6) * (hi - lo)
            mu = _shift_for_mean(target, cuts, lo, hi, 1.0)
            out[col] = lo + float(_norm_cdf((mu - cuts) / sd).sum())
    return out
