"""The whole analysis of a survey, run once: ``analyze(data) -> Analysis``.

A report is two layers.  :func:`analyze` runs every analysis that applies to the
data once, with the same defaults as the standalone commands (the same seed gives
the same numbers as ``servmodels bootstrap``, ``reliability``, ``compare``,
``cfa`` and ``efa``), keeps each result with the warnings it raised, and records
each analysis that could not run with its reason.  The renderers
(:mod:`servmodels.report`) take an :class:`Analysis` and compute nothing, so one
analysis is rendered in every format and language.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._exceptions import ParameterError, ServmodelsError
from ._params import check_int
from ._progress import progress as progress_bar
from ._results import Result, jsonable
from .data import SurveyData

__all__ = ["Analysis", "AnalysisStep", "AnalysisTable", "analyze", "ANALYSES", "OPTIONAL_ANALYSES",
           "DEFAULT_RESAMPLES"]

#: every analysis a report holds by default, in report order
ANALYSES = ("scores", "bootstrap", "items", "reliability", "cfa", "latent_gap", "efa", "compare", "ipa")

#: analyses run only when named in ``analyses=`` (``--analyses``): measurement invariance across the
#: first group column (``servmodels cfa --group G --invariance``) and the IKM index (``ikm``)
OPTIONAL_ANALYSES = ("invariance", "ikm")

#: resamples of each bootstrap when none are given: the defaults of the standalone commands
#: (``bootstrap`` 2000; ``reliability``, ``compare`` and IPA 1000)
DEFAULT_RESAMPLES: dict[str, int] = {"bootstrap": 2000, "reliability": 1000, "compare": 1000, "ipa": 1000}
#: resamples of the optional analyses' bootstraps (``ikm``'s default), used only when they run
_OPTIONAL_RESAMPLES: dict[str, int] = {"ikm": 2000}

#: repeats of k-fold cross-validation and parallel-analysis data sets (``compare`` and ``efa`` defaults)
DEFAULT_CV_REPEATS = 10
DEFAULT_PA_ITERATIONS = 100


@dataclass(frozen=True)
class AnalysisStep:
    """One analysis of a report: its result and warnings, or the reason it did not run.

    Attributes
    ----------
    name : str
        One of :data:`ANALYSES`.
    result : Result or None
        None when skipped.
    warnings : tuple of str
        Warnings the analysis raised (Heywood cases, non-convergence, ...).
    skipped : str or None
        Why the analysis did not run (it does not apply to these data, or it failed).
    failed : bool
        True when it should have run but raised an error (``--strict`` exits 3).
    seconds : float
        Wall time.
    """

    name: str
    result: Result | None = None
    warnings: tuple[str, ...] = ()
    skipped: str | None = None
    failed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None


@dataclass(frozen=True)
class AnalysisTable:
    """A table of the report in language-neutral form: column keys, unrounded numbers.

    Renderers translate the title (``key``) and column names through the catalogue
    and format the numbers; tests compare what they print with these values.
    """

    key: str
    step: str
    frame: pd.DataFrame
    note: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Analysis(Result):
    """Every analysis of a survey, run once (frozen).

    Attributes
    ----------
    provenance : dict
        Title, date, servmodels version, input file and SHA-256, instrument and scale,
        reverse-keyed items, respondents used and dropped, seed, resamples per
        analysis, cross-validation repeats, estimator.
    steps : dict of str to AnalysisStep
        In :data:`ANALYSES` order.
    groups : dict of str to DataFrame
        Respondents per group of every grouping column.
    n_respondents, n_dropped : int
    warnings : tuple of str
        Every step's warnings, prefixed by its name.
    """

    provenance: Mapping[str, Any]
    steps: Mapping[str, AnalysisStep]
    groups: Mapping[str, pd.DataFrame]
    n_respondents: int
    n_dropped: int
    instrument: Any = None
    warnings: tuple[str, ...] = ()

    # ------------------------------------------------------------------ access
    def __getitem__(self, name: str) -> Result:
        step = self.steps.get(name)
        if step is None or step.result is None:
            reason = "not part of this analysis" if step is None else step.skipped
            raise KeyError(f"{name}: {reason}")
        return step.result

    def get(self, name: str) -> Result | None:
        """The result of one analysis, or None when it was skipped."""
        step = self.steps.get(name)
        return None if step is None else step.result

    @property
    def skipped(self) -> dict[str, str]:
        """Analysis name -> reason, for every analysis that did not run."""
        return {k: s.skipped for k, s in self.steps.items() if s.skipped is not None}

    @property
    def failed(self) -> dict[str, str]:
        """Analyses that should have run but raised an error."""
        return {k: s.skipped or "" for k, s in self.steps.items() if s.failed}

    # ------------------------------------------------------------------ tables
    def tables(self) -> list[AnalysisTable]:
        """The report's tables, in order, with unrounded numbers and neutral column keys."""
        return _tables(self)

    # ------------------------------------------------------------------ Result surface
    def to_frame(self) -> pd.DataFrame:
        """One row per analysis: status, reason, number of warnings, seconds."""
        return pd.DataFrame([{"analysis": k, "status": "ok" if s.ok else "skipped", "reason": s.skipped or "",
                              "n_warnings": len(s.warnings), "seconds": s.seconds} for k, s in self.steps.items()])

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: provenance, every analysis (status, warnings, full result) and every report table."""
        return jsonable({
            "provenance": dict(self.provenance),
            "analyses": {
                k: {"status": "ok" if s.ok else "skipped", "reason": s.skipped, "failed": s.failed,
                    "warnings": list(s.warnings), "seconds": s.seconds,
                    "result": None if s.result is None else s.result.to_dict()}
                for k, s in self.steps.items()
            },
            "tables": [{"key": t.key, "analysis": t.step, "note": t.note,
                        "columns": [str(c) for c in t.frame.columns], "rows": t.frame.to_dict(orient="records")}
                       for t in self.tables()],
            "groups": {g: f.to_dict(orient="records") for g, f in self.groups.items()},
            # the dimension table of `servmodels score FILE --json` (mean E, P and gap per dimension)
            "dimensions": None if self.get("scores") is None else self["scores"].to_dict()["dimensions"],
            "n_respondents": self.n_respondents,
            "n_dropped": self.n_dropped,
            "warnings": list(self.warnings),
        })

    def summary(self) -> str:
        p = self.provenance
        lines = [f"Analysis of {p.get('input_file') or 'data'} — n = {self.n_respondents} used, {self.n_dropped} dropped; "
                 f"seed {p.get('seed')}"]
        for k, s in self.steps.items():
            status = f"ok ({s.seconds:.1f} s)" if s.ok else f"skipped: {s.skipped}"
            lines.append(f"  {k:<12} {status}" + (f"; {len(s.warnings)} warning(s)" if s.warnings else ""))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- running
def _sha256(path: str | os.PathLike[str] | None) -> str | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        return None
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _run_step(name: str, fn: Callable[[], Result], known: Sequence[str] = ()) -> AnalysisStep:
    """Run one analysis; keep its own warnings (not ``known``, the data's, which every result repeats);
    a ServmodelsError (or any error) becomes the reason it was skipped."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except ServmodelsError as exc:
            return AnalysisStep(name, None, _unique(caught), " ".join(str(exc).split()), True, time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - an internal error in one analysis must not lose the others
            reason = f"internal error {type(exc).__name__}: {exc} (please report it)"
            return AnalysisStep(name, None, _unique(caught), reason, True, time.perf_counter() - t0)
    found = _unique(caught)
    own = tuple(getattr(result, "warnings", ()) or ())
    seen = {" ".join(str(w).split()) for w in known}
    merged = tuple(w for w in dict.fromkeys(found + tuple(" ".join(str(w).split()) for w in own)) if w not in seen)
    return AnalysisStep(name, result, merged, None, False, time.perf_counter() - t0)


def _unique(caught: Sequence[warnings.WarningMessage]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(" ".join(str(w.message).split()) for w in caught))


def _skip(name: str, reason: str) -> AnalysisStep:
    return AnalysisStep(name, None, (), reason, False, 0.0)


def analyze(
    data: SurveyData,
    *,
    seed: int = 0,
    n_resamples: int | Mapping[str, int] | None = None,
    options: Any = None,
    cv_repeats: int = DEFAULT_CV_REPEATS,
    pa_iterations: int = DEFAULT_PA_ITERATIONS,
    analyses: Sequence[str] | None = None,
    title: str | None = None,
    input_path: str | os.PathLike[str] | None = None,
    progress: bool = False,
    invariance_group: str | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> Analysis:
    """Run every analysis that applies to the data, once.

    Parameters
    ----------
    data : SurveyData
        Validated survey (E and P for the gap analyses; an outcome column for the
        SERVQUAL-versus-SERVPERF comparison; any questionnaire for the rest).
    seed : int
        Seed of every bootstrap and of cross-validation and parallel analysis; the
        same seed gives the same numbers as the standalone commands.
    n_resamples : int or mapping, optional
        Resamples of every bootstrap (one number), or per analysis
        (``{"bootstrap": 2000, "reliability": 1000, ...}``); default
        :data:`DEFAULT_RESAMPLES`, the standalone commands' defaults.
    options : SEMOptions, optional
        Reaches the CFA, the CFA behind omega/CR/AVE, the latent gap model and the
        comparison's CFA rows.
    cv_repeats : int
        Repeats of 10-fold cross-validation in the comparison [10].
    pa_iterations : int
        Random data sets of the EFA's parallel analysis [100].
    analyses : sequence of str, optional
        A subset of :data:`ANALYSES` (default: all of them), and any of
        :data:`OPTIONAL_ANALYSES`: ``"invariance"`` (configural, metric, scalar, strict
        across ``invariance_group``, as ``servmodels cfa --group G --invariance``) and
        ``"ikm"`` (the IKM index of a questionnaire answered once, e.g. preset ``ikm9``).
    title : str, optional
        Report title (default: the catalogue's).
    input_path : path, optional
        The file the data came from, for its SHA-256 (default: ``data.source`` when
        it is a file).
    progress : bool
        A progress bar per analysis on stderr.
    invariance_group : str, optional
        Group column of the invariance analysis (default: the data's first group column).
    on_progress : callable, optional
        Called as ``on_progress(name, done, total)`` before each analysis runs
        (``done`` analyses finished of ``total``) and once at the end with
        ``name=""`` (the web app shows it).

    Returns
    -------
    Analysis

    Examples
    --------
    >>> from servmodels import read_survey, load_example, analyze
    >>> data = read_survey(load_example(), outcome="satisfaction")
    >>> a = analyze(data, n_resamples=50, analyses=["scores", "bootstrap", "items"])
    >>> sorted(a.steps), a.provenance["seed"]
    (['bootstrap', 'items', 'scores'], 0)
    """
    from . import __version__
    from ._inputs import as_survey
    from .sem.options import resolve_options

    data = as_survey(data, what="data")
    options = resolve_options(options)
    seed = check_int("seed", seed, low=0)
    cv_repeats = check_int("cv_repeats", cv_repeats, low=1)
    pa_iterations = check_int("pa_iterations", pa_iterations, low=1)
    wanted = list(ANALYSES) if analyses is None else list(dict.fromkeys(analyses))
    known = ANALYSES + OPTIONAL_ANALYSES
    bad = [a for a in wanted if a not in known]
    if bad:
        raise ParameterError(f"analyses: unknown {', '.join(map(repr, bad))}; choose from {', '.join(known)}")
    resamples = {**DEFAULT_RESAMPLES, **_OPTIONAL_RESAMPLES}
    if isinstance(n_resamples, Mapping):
        unknown = [k for k in n_resamples if k not in resamples]
        if unknown:
            raise ParameterError(f"n_resamples: no bootstrap in {', '.join(map(repr, unknown))}; "
                                 f"keys are {', '.join(resamples)}")
        resamples.update({k: check_int(f"n_resamples[{k!r}]", v, low=0) for k, v in n_resamples.items()})
    elif n_resamples is not None:
        b = check_int("n_resamples", n_resamples, low=0)
        resamples = {k: b for k in resamples}

    inst = data.instrument
    sets = set(data.score_sets)
    servqual = {"E", "P"} <= sets
    main_set = "P" if "P" in sets else inst.default_scores()

    from .bootstrap import gap_bootstrap
    from .ikm import ikm
    from .ipa import ipa
    from .regression import compare_servqual_servperf
    from .reliability import item_analysis
    from .scoring import score
    from .sem import cfa, latent_gap, measurement_invariance
    from .validity import efa, validity

    group = invariance_group if invariance_group is not None else (
        str(data.groups.columns[0]) if data.groups is not None and len(data.groups.columns) else None)
    if group is not None and (data.groups is None or group not in data.groups.columns):
        raise ParameterError(f"invariance_group: {group!r} is not a group column of the data "
                             f"({', '.join(map(str, data.groups.columns)) if data.groups is not None else 'none'})")

    runners: dict[str, Callable[[], Result] | str] = {
        "scores": lambda: score(data),
        "bootstrap": (lambda: gap_bootstrap(data, method="bca", n_resamples=resamples["bootstrap"], rng=seed,
                                            progress=progress))
        if servqual else "needs expectation (E) and perception (P) answers",
        "items": lambda: item_analysis(data, scores=main_set),
        "reliability": lambda: validity(data, scores=main_set, n_resamples=resamples["reliability"], rng=seed,
                                        bootstrap_cfa=False, options=options, progress=progress),
        "cfa": lambda: cfa(data, scores=main_set, options=options),
        # the observed gaps' intervals from the same BCa bootstrap (seed, resamples) as the "bootstrap" step
        "latent_gap": (lambda: latent_gap(data, options=options, n_resamples=resamples["bootstrap"], rng=seed))
        if servqual else "needs expectation (E) and perception (P) answers",
        "efa": lambda: efa(data, scores=main_set, n_iter=pa_iterations, rng=seed, progress=progress),
        "compare": (lambda: compare_servqual_servperf(data, n_resamples=resamples["compare"], rng=seed,
                                                      n_repeats=cv_repeats, options=options, progress=progress))
        if servqual and data.outcome is not None
        else ("needs an overall-satisfaction column (--outcome)" if servqual
              else "needs expectation (E) and perception (P) answers and an outcome column"),
        "ipa": (lambda: ipa(data, n_resamples=resamples["ipa"], rng=seed))
        if servqual else "needs expectation (E) and perception (P) answers",
        # as `servmodels cfa FILE --group G --invariance` (the main score set's instrument model)
        "invariance": (lambda: measurement_invariance(data, group=group, options=options, scores=main_set))
        if group is not None else "needs a group column (--group)",
        "ikm": (lambda: ikm(data, n_resamples=resamples["ikm"], rng=seed))
        if len(sets) == 1 else "needs a questionnaire answered once (the IKM elements, e.g. preset ikm9)",
    }
    steps: dict[str, AnalysisStep] = {}
    order = [a for a in known if a in wanted]
    with progress_bar(len(wanted), "report", enabled=progress, unit="analysis") as bar:
        for done, name in enumerate(order):
            if hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(name)
            if on_progress is not None:
                on_progress(name, done, len(order))
            run = runners[name]
            steps[name] = _skip(name, run) if isinstance(run, str) else _run_step(name, run, data.warnings)
            bar.update(1)
    if on_progress is not None:
        on_progress("", len(order), len(order))

    used = {k: v for k, v in resamples.items() if k in steps and steps[k].ok}
    path = input_path if input_path is not None else data.source
    provenance = {
        "title": title,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "servmodels_version": __version__,
        "input_file": None if path is None else os.path.basename(str(path)),
        "input_sha256": _sha256(path),
        "instrument": inst.name,
        "scale": list(inst.scale),
        "score_sets": list(data.score_sets),
        "reverse_keyed": list(inst.reverse),
        "data_warnings": list(data.warnings),
        "n_respondents": data.n_respondents,
        "n_dropped": data.n_dropped,
        "dropped_because": "missing answers (listwise)" if data.n_dropped else None,
        "seed": seed,
        "n_resamples": used,
        "bootstrap_method": "BCa" if "bootstrap" in used else None,
        "cv_repeats": cv_repeats if "compare" in steps and steps["compare"].ok else None,
        "invariance_group": group if "invariance" in steps and steps["invariance"].ok else None,
        "pa_iterations": pa_iterations if "efa" in steps and steps["efa"].ok else None,
        "estimator": options.label,
        "confidence_level": 0.95,
    }
    groups = {g: data.groups[g].value_counts(sort=False).rename_axis("group").reset_index(name="n")
              for g in data.groups.columns}
    # the data's own warnings (from reading them) once, then each analysis's
    all_warnings = tuple(f"data: {w}" for w in data.warnings) + tuple(
        f"{k}: {w}" for k, s in steps.items() for w in s.warnings)
    out = Analysis(provenance=provenance, steps=steps, groups=groups, n_respondents=data.n_respondents,
                   n_dropped=data.n_dropped, instrument=inst, warnings=all_warnings)
    if inst.reverse:
        out._record_reverse(inst)
    return out


# ----------------------------------------------------------------------------- tables
def _largest_modification_indices(fit: Any, k: int) -> pd.DataFrame | None:
    """The k largest modification indices of a CFA (parameter, MI, EPC, standardized EPC); None for the
    fits whose diagnostics are not available (clustered: ``CFAResult.modification_indices`` says so)."""
    from ._exceptions import ParameterError

    try:
        mi = fit.modification_indices
    except ParameterError:
        return None
    top = mi.sort_values("mi", ascending=False).head(k)
    many = len(set(mi["group"])) > 1  # the fit's groups, not only those among the rows shown
    par = [f"{r.lhs} {r.op} {r.rhs}" + (f" ({r.group})" if many else "") for r in top.itertuples()]
    return pd.DataFrame({"parameter": par, "mi": top["mi"].to_numpy(), "epc": top["epc"].to_numpy(),
                         "sepc_all": top["sepc_all"].to_numpy()})


def _tables(a: Analysis) -> list[AnalysisTable]:
    out: list[AnalysisTable] = []
    for g, frame in a.groups.items():
        out.append(AnalysisTable("sample", "data", frame.copy(), {"group": g}))
    sres = a.get("scores")
    boot = a.get("bootstrap")
    if sres is not None:
        names = list(sres.scores)
        items = sres.items[["item", "dimension", *names]].copy()
        dims = sres.dimensions.drop(index="overall")[names].reset_index(names="dimension")
        note: dict[str, Any] = {"scores": names}
        if boot is not None:
            bt = boot.table
            ib = bt[bt.level == "item"].reset_index(drop=True)
            db = bt[bt.level == "dimension"].reset_index(drop=True)
            for frame, b in ((items, ib), (dims, db)):
                frame["ci_low"], frame["ci_high"], frame["p_adjusted"] = (b["ci_low"].to_numpy(), b["ci_high"].to_numpy(),
                                                                         b["p_adjusted"].to_numpy())
            note.update(method=boot.method, confidence_level=boot.confidence_level, n_resamples=boot.n_resamples,
                        adjust=boot.adjust)
        out.append(AnalysisTable("items", "scores", items, note))
        out.append(AnalysisTable("dimensions", "scores", dims, note))
    ia = a.get("items")
    if ia is not None:
        t = ia.items[["item", "dimension", "mean", "sd", "corrected_item_total_r", "alpha_if_deleted"]].copy()
        out.append(AnalysisTable("item_analysis", "items", t, {"scores": ia.scores, "r_critical": ia.r_critical}))
    val = a.get("reliability")
    if val is not None:
        cols = ["alpha", "alpha_ci_low", "alpha_ci_high", "omega", "composite_reliability", "ave"]
        vt = val.dimensions[[c for c in cols if c in val.dimensions.columns]].reset_index(names="dimension")
        out.append(AnalysisTable("reliability", "reliability", vt,
                                 {"n_resamples": val.n_resamples, "confidence_level": val.confidence_level,
                                  "kmo": val.kmo, "bartlett": dict(val.bartlett)}))
        ht = val.htmt.copy()
        out.append(AnalysisTable("htmt", "reliability", ht.reset_index(names="dimension")))
    fit = a.get("cfa")
    if fit is not None:
        f = fit.fit
        keys = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "srmr",
                "chisq_scaled", "pvalue_scaled", "cfi_robust", "tli_robust", "rmsea_robust")
        row: dict[str, Any] = {"estimator": fit.options.label}
        row.update({k: f[k] for k in keys if k in f and f[k] is not None})
        out.append(AnalysisTable("cfa_fit", "cfa", pd.DataFrame([row])))
        lo = fit.parameters.query("op == '=~'")[["lhs", "rhs", "estimate", "se", "std_all"]].reset_index(drop=True)
        lo.loc[lo["se"] == 0, "se"] = np.nan  # fixed loadings (marker items) have no standard error
        out.append(AnalysisTable("cfa_loadings", "cfa", lo.rename(columns={"lhs": "factor", "rhs": "item"})))
        mi = _largest_modification_indices(fit, 10)
        if mi is not None and len(mi):
            out.append(AnalysisTable("cfa_modindices", "cfa", mi))
    lg = a.get("latent_gap")
    if lg is not None:
        gaps = lg.to_frame().rename(columns={"estimate": "latent_gap", "se": "latent_se", "ci_low": "latent_ci_low",
                                             "ci_high": "latent_ci_high", "observed": "observed_gap"})
        gaps = gaps[["dimension", "latent_gap", "latent_se", "latent_ci_low", "latent_ci_high", "p_value",
                     "observed_gap", "observed_ci_low", "observed_ci_high"]]
        out.append(AnalysisTable("latent_gap", "latent_gap", gaps, {
            "gap_model": lg.gap_model, "std_lv": lg.options.std_lv, "confidence_level": lg.confidence_level,
            "observed_method": lg.observed_method, "n_resamples": lg.n_resamples,
            "free_intercepts": list(lg.free_intercepts), "scalar_supported": lg.scalar_supported,
            "flagged_intercepts": list(lg.flagged_intercepts)}))
        robust = ["chisq_scaled", "cfi_robust", "rmsea_robust"] if "chisq_scaled" in lg.invariance else []
        inv = lg.invariance[["model", "chisq", "df", "pvalue", "cfi", "rmsea", *robust, "srmr", "chisq_diff", "df_diff",
                             "p_diff", "delta_cfi"]].copy()
        out.append(AnalysisTable("latent_invariance", "latent_gap", inv,
                                 {"diff_method": str(lg.invariance["diff_method"].dropna().iloc[0])}))
    efa_res = a.get("efa")
    if efa_res is not None:
        ld = efa_res.loadings.copy()
        ld = ld.reset_index(names="item") if "item" not in ld.columns else ld
        out.append(AnalysisTable("efa_loadings", "efa", ld, {"n_factors": efa_res.n_factors, "method": efa_res.method,
                                                             "rotation": efa_res.rotation}))
    cmp = a.get("compare")
    if cmp is not None:
        tab = pd.DataFrame([{"model": m, "r2": r.fit["r2"], "adj_r2": r.fit["adj_r2"], "aic": r.fit["aic"],
                             "bic": r.fit["bic"], "cv_r2": cmp.cv_r2[k]["mean"]}
                            for m, r, k in (("SERVPERF", cmp.servperf, "servperf"), ("SERVQUAL", cmp.servqual, "servqual"))])
        out.append(AnalysisTable("compare", "compare", tab, {"verdict": cmp.verdict}))
    ipa_res = a.get("ipa")
    if ipa_res is not None:
        it = ipa_res.table.reset_index()
        out.append(AnalysisTable("ipa", "ipa", it))
    inv = a.get("invariance")
    if inv is not None:
        t = inv.table
        robust = "chisq_scaled" in t.columns
        cols = (["model", "chisq_scaled", "df", "pvalue_scaled", "cfi_robust", "rmsea_robust", "srmr", "chisq_diff",
                 "df_diff", "p_diff", "delta_cfi_robust", "delta_rmsea_robust"] if robust else
                ["model", "chisq", "df", "pvalue", "cfi", "rmsea", "srmr", "chisq_diff", "df_diff", "p_diff", "delta_cfi",
                 "delta_rmsea"])
        method = t["diff_method"].dropna() if "diff_method" in t.columns else pd.Series([], dtype=object)
        out.append(AnalysisTable("invariance", "invariance", t[[c for c in cols if c in t.columns]].reset_index(drop=True),
                                 {"group": a.provenance.get("invariance_group"), "estimator": inv.options.label,
                                  "diff_method": str(method.iloc[0]) if len(method) else None}))
    ikm_res = a.get("ikm")
    if ikm_res is not None:
        out.append(AnalysisTable("ikm", "ikm", ikm_res.elements.reset_index(),
                                 {"index": ikm_res.index, "ci_low": ikm_res.ci_low, "ci_high": ikm_res.ci_high,
                                  "grade": ikm_res.grade, "grade_label_en": ikm_res.grade_label_en,
                                  "grade_label_id": ikm_res.grade_label_id, "n_resamples": ikm_res.n_resamples,
                                  "index_shortcut": ikm_res.index_shortcut}))
    return out
