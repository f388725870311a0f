"""Bootstrap confidence intervals for SERVQUAL gaps, vectorised for large survey batches.

Every statistic here is a mean of respondent-level values (item gaps, dimension gaps,
the overall gap, perception dimension means), so a resample is a vector of counts c
(how often each respondent is drawn) and all statistics of B resamples are one BLAS
product ``C V / sum(c)``, done in batches of bounded memory.  Each resample draws from
its own child of one ``numpy.random.SeedSequence``, so a seed gives identical results
whatever the batch size or number of workers.

Methods: percentile, basic, BCa (Efron 1987; acceleration from the exact leave-one-out
jackknife, which for a mean is closed form: theta_(i) = (n theta - v_i)/(n - 1)) and
studentized (bootstrap-t with the analytic SE of the mean in every resample).  Quantiles
use linear interpolation as ``scipy.stats.bootstrap`` or, with ``interpolation="boot"``,
the normal-quantile interpolation of R's ``boot::boot.ci``.  p-values for gap = 0 invert
the interval; Holm and Benjamini-Hochberg adjust them within each level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from ._distributions import t_ppf, t_sf
from ._exceptions import ParameterError
from ._inputs import survey_input
from ._params import check_bool, check_choice, check_cluster, check_confidence_level, check_int, check_rng, check_type
from ._progress import progress as progress_bar
from ._results import Result, jsonable, text_table
from ._stream import ResampleStream
from .data import SurveyData

__all__ = ["BootstrapResult", "gap_bootstrap", "bootstrap", "adjust_pvalues", "resample_counts"]

Method = Literal["percentile", "basic", "bca", "studentized"]


def adjust_pvalues(p: np.ndarray, method: Literal["holm", "bh"] = "holm") -> np.ndarray:
    """Holm (1979) step-down or Benjamini-Hochberg (1995) step-up adjusted p-values.

    Examples
    --------
    >>> adjust_pvalues(np.array([0.01, 0.04, 0.03]), "holm").round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    method = check_choice("method", method, ("holm", "bh"))
    p = np.asarray(p, float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if m == 0:
        return out
    order = np.argsort(q)
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    elif method == "bh":
        adj = np.minimum.accumulate((m / np.arange(m, 0, -1)) * q[order][::-1])[::-1]
    else:  # pragma: no cover - checked above
        raise ParameterError(f"method must be 'holm' or 'bh', got {method!r}")
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _seeds(rng: int | np.random.Generator | np.random.SeedSequence | None, n_resamples: int) -> ResampleStream:
    """The resample stream of ``rng`` (:class:`servmodels._stream.ResampleStream`)."""
    return ResampleStream.from_rng(rng, n_resamples)


def resample_counts(seeds: ResampleStream, n: int, *, clusters: np.ndarray | None = None,
                    strata: np.ndarray | None = None, poisson: bool = False, out: np.ndarray | None = None,
                    total_draws: int | None = None) -> np.ndarray:
    """Count matrix (len(seeds) x n): how often each respondent enters each resample.

    Ordinary: n draws with replacement.  ``clusters``: clusters drawn with replacement,
    every respondent of a drawn cluster counted.  ``strata``: draws within each stratum.
    ``poisson``: independent Poisson(1) weights (mergeable across streamed chunks).
    The random stream is defined in :mod:`servmodels._stream` (docs/bootstrap.md); the
    ordinary design uses a compiled kernel for large draws when numba is installed, with
    identical counts.

    Examples
    --------
    >>> C = resample_counts(_seeds(1, 4), 6)
    >>> C.shape, C.sum(axis=1).tolist()
    ((4, 6), [6.0, 6.0, 6.0, 6.0])
    """
    return seeds.counts(n, clusters=clusters, strata=strata, poisson=poisson, out=out, total_draws=total_draws)


def _linear_replicates(V: np.ndarray, n_resamples: int, rng: Any, *, batch_size: int | None = None,
                       clusters: np.ndarray | None = None, strata: np.ndarray | None = None, poisson: bool = False,
                       indices: np.ndarray | None = None, progress: bool = False,
                       need_se: bool = True, n_workers: int = 2,
                       combine: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap means (B x K) and their analytic standard errors (B x K) for the columns of V.

    ``combine`` (K' x K integer matrix, no standard errors): the means of the K' columns
    ``V @ combine.T`` instead, from the resampled sums of V's columns (exact integer sums, so
    the same numbers as resampling ``V @ combine.T`` itself, from fewer columns).

    The weighted sums come from :func:`servmodels._resample_moments.resample_moments`: batches
    are independent (their own child streams) and filled by worker threads; with integer V the
    sums are exact, so the results depend neither on the batch size nor on the workers.
    """
    from ._resample_moments import resample_moments

    K = V.shape[1]
    pairs = np.column_stack([np.arange(K), np.arange(K)]) if need_se else None
    B = len(indices) if indices is not None else n_resamples
    # the bar advances once per batch of resamples
    with progress_bar(B, "bootstrap", progress, unit="resamples") as bar:
        ms = resample_moments(V, None if indices is not None else n_resamples, rng, pairs=pairs, shift=np.zeros(K),
                              indices=indices, clusters=clusters, strata=strata, poisson=poisson,
                              batch_size=batch_size, n_workers=n_workers, bar=bar)
    w = ms.w[:, None]
    first = ms.first if combine is None else ms.first @ np.asarray(combine, dtype=float).T
    theta = first / w
    se = np.full(theta.shape, np.nan)
    if need_se:
        m2 = ms.second / w
        var = np.maximum(m2 - theta * theta, 0.0) * w / np.maximum(w - 1, 1)
        se = np.sqrt(var / w)
    return theta, se


def _acceleration(jack: np.ndarray) -> np.ndarray:
    """BCa acceleration sum(u^3) / (6 sum(u^2)^1.5), u = mean(jackknife) - jackknife (Efron 1987, eq. 6.6).
    u * u * u, not u**3: numpy's general power is twenty times slower on 10^7 values."""
    u = jack.mean(axis=0) - jack
    u2 = u * u
    with np.errstate(divide="ignore", invalid="ignore"):
        return (u2 * u).sum(axis=0) / (6 * u2.sum(axis=0) ** 1.5)


def _quantiles(t: np.ndarray, probs: np.ndarray, interpolation: str) -> np.ndarray:
    """Column-wise quantiles of replicates t (B x K) at per-column probabilities probs (P x K).

    An undefined probability (BCa with a constant statistic, or so few resamples that z0 is
    infinite) gives an undefined bound (NaN), not an error."""
    def q(col: np.ndarray, p: float) -> float:
        if not np.isfinite(p):
            return np.nan
        if interpolation == "linear":
            return float(np.nanpercentile(col, 100 * min(max(p, 0.0), 1.0))) if np.isfinite(col).any() else np.nan
        return _norm_inter(col, p)

    return np.array([[q(t[:, k], p) for k, p in enumerate(row)] for row in probs])


def _norm_inter(t: np.ndarray, alpha: float) -> float:
    """boot::norm.inter: interpolate order statistics on the normal-quantile scale."""
    t = np.sort(t[np.isfinite(t)])
    R = len(t)
    rk = (R + 1) * alpha
    k = int(np.trunc(rk))
    if k == rk and 0 < k <= R:
        return float(t[k - 1])
    if k <= 0:
        return float(t[0])
    if k >= R:
        return float(t[-1])
    z1, z2, z3 = special.ndtri(alpha), special.ndtri(k / (R + 1)), special.ndtri((k + 1) / (R + 1))
    return float(t[k - 1] + (z1 - z2) / (z3 - z2) * (t[k] - t[k - 1]))


def _z0(reps: np.ndarray, theta_hat: np.ndarray, interpolation: str) -> np.ndarray:
    """Bias-correction z0 = Phi^-1(share of replicates below the estimate).  Replicates equal
    to the estimate (common with discrete Likert data) count half, as scipy.stats.bootstrap
    does; with ``interpolation="boot"`` they do not count, as R's boot.ci."""
    below = np.mean(reps < theta_hat, axis=0)
    if interpolation == "linear":
        below = below + 0.5 * np.mean(reps == theta_hat, axis=0)
    return special.ndtri(below)


def _intervals(theta_hat: np.ndarray, reps: np.ndarray, se_reps: np.ndarray, se_hat: np.ndarray, jack: np.ndarray | None,
               method: str, level: float, interpolation: str, null: float | None = 0.0) -> dict[str, np.ndarray]:
    B, K = reps.shape
    lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
    ones = np.ones(K)
    if method == "percentile":
        lo, hi = _quantiles(reps, np.vstack([lo_p * ones, hi_p * ones]), interpolation)
    elif method == "basic":
        q_lo, q_hi = _quantiles(reps, np.vstack([lo_p * ones, hi_p * ones]), interpolation)
        lo, hi = 2 * theta_hat - q_hi, 2 * theta_hat - q_lo
    elif method == "bca":
        z0 = _z0(reps, theta_hat, interpolation)
        a = _acceleration(jack)
        za, zb = special.ndtri(lo_p), special.ndtri(hi_p)
        a1 = special.ndtr(z0 + (z0 + za) / (1 - a * (z0 + za)))
        a2 = special.ndtr(z0 + (z0 + zb) / (1 - a * (z0 + zb)))
        lo, hi = _quantiles(reps, np.vstack([a1, a2]), interpolation)
    elif method == "studentized":
        with np.errstate(divide="ignore", invalid="ignore"):
            tstar = (reps - theta_hat) / se_reps
        q_lo, q_hi = _quantiles(np.where(np.isfinite(tstar), tstar, np.nan), np.vstack([lo_p * ones, hi_p * ones]), interpolation)
        lo, hi = theta_hat - q_hi * se_hat, theta_hat - q_lo * se_hat
    else:  # pragma: no cover - the public functions check the method
        raise ParameterError(f"method must be percentile, basic, bca or studentized, got {method!r}")
    out = {"ci_low": lo, "ci_high": hi, "se": reps.std(axis=0, ddof=1)}
    if method == "bca":
        out["acceleration"] = a
    if null is not None:
        out["p_value"] = _invert(theta_hat, reps, se_reps, se_hat, out.get("acceleration"), method, null)
    return out


def _invert(theta_hat, reps, se_reps, se_hat, a, method, null) -> np.ndarray:
    """Two-sided p-value: the largest 1 - level whose interval still contains ``null``
    (``a``: the BCa acceleration)."""
    B = len(reps)
    floor = 1.0 / B
    if method == "percentile":
        q = np.mean(reps <= null, axis=0)
    elif method == "basic":
        q = np.mean(reps >= 2 * theta_hat - null, axis=0)
    elif method == "studentized":
        with np.errstate(divide="ignore", invalid="ignore"):
            tstar = (reps - theta_hat) / se_reps
        q = np.mean(tstar >= (theta_hat - null) / se_hat, axis=0)
    else:  # BCa: map the null's position back through the BCa transformation
        z0 = _z0(reps, theta_hat, "linear")
        qn = np.clip(np.mean(reps <= null, axis=0), floor / 2, 1 - floor / 2)
        w = special.ndtri(qn) - z0
        q = special.ndtr(w / (1 + a * w) - z0)
    p = 2 * np.minimum(q, 1 - q)
    return np.clip(p, floor, 1.0)


@dataclass(frozen=True)
class BootstrapResult(Result):
    """Bootstrap intervals for gaps and dimension means (frozen).

    ``table`` columns: ``level, name, estimate, se, ci_low, ci_high, p_value, p_adjusted,
    method`` and the analytic paired-t ``t_ci_low, t_ci_high, t_p_value``.  Levels:
    ``item``, ``dimension``, ``overall`` (gaps P - E) and ``perception`` (SERVPERF
    dimension means, no test).
    """

    table: pd.DataFrame
    method: str
    n_resamples: int
    confidence_level: float
    adjust: str
    n_respondents: int
    n_dropped: int
    design: str
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self, levels: tuple[str, ...] | None = None) -> dict[str, Any]:
        t = self.table if levels is None else self.table[self.table["level"].isin(levels)]
        return jsonable({"method": self.method, "n_resamples": self.n_resamples, "confidence_level": self.confidence_level,
                         "adjust": self.adjust, "design": self.design, "n_respondents": self.n_respondents,
                         "n_dropped": self.n_dropped, "gaps": t, "warnings": list(self.warnings)})

    def summary(self, digits: int = 3, levels: tuple[str, ...] | None = None) -> str:
        """Text table; ``levels`` (e.g. ``("dimension",)``) keeps only those rows, like ``to_dict``."""
        cols = ["level", "name", "estimate", "se", "ci_low", "ci_high", "p_value", "p_adjusted", "t_ci_low", "t_ci_high"]
        t = self.table if levels is None else self.table[self.table["level"].isin(levels)]
        return (f"Bootstrap ({self.method}, {self.n_resamples} resamples, {self.design}) — n = {self.n_respondents}; "
                f"{round(self.confidence_level * 100)}% intervals; p adjusted by {self.adjust} within level\n"
                + text_table(t[cols], digits))


@survey_input
def gap_bootstrap(data: SurveyData, *, method: Method = "bca", n_resamples: int = 2000,
                  rng: int | np.random.Generator | np.random.SeedSequence | None = None, confidence_level: float = 0.95,
                  cluster: str | None = None, strata: str | None = None, poisson: bool = False,
                  adjust: Literal["holm", "bh"] = "holm", batch_size: int | None = None,
                  interpolation: Literal["linear", "boot"] = "linear", indices: np.ndarray | None = None,
                  progress: bool = False) -> BootstrapResult:
    """Paired bootstrap of item, dimension and overall gaps (and perception means).

    E and P of a respondent are resampled together.  All statistics come from the same
    resamples.  ``cluster`` (e.g. village) resamples whole clusters; ``strata`` resamples
    within strata; ``poisson`` uses Poisson(1) weights.  ``indices`` (B x n) replays given
    resamples (to reproduce another program's).  ``progress=True`` shows a progress bar on
    stderr, advanced once per batch of resamples; results are the same with or without it.

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = gap_bootstrap(read_survey(load_example()), n_resamples=200, rng=1)
    >>> row = res.table.query("level == 'dimension' and name == 'assurance'").iloc[0]
    >>> round(float(row["estimate"]), 2), bool(row["ci_high"] < 0)
    (-0.44, True)
    """
    method = check_choice("method", method, ("percentile", "basic", "bca", "studentized"))
    if indices is None:
        n_resamples = check_int("n_resamples", n_resamples, low=2)
    rng = check_rng(rng)
    confidence_level = check_confidence_level(confidence_level)
    adjust = check_choice("adjust", adjust, ("holm", "bh"))
    interpolation = check_choice("interpolation", interpolation, ("linear", "boot"))
    batch_size = check_int("batch_size", batch_size, low=1, allow_none=True)
    poisson = check_bool("poisson", poisson)
    progress = check_bool("progress", progress)
    if cluster is not None and strata is not None:
        raise ParameterError("cluster and strata: use one of them, not both")
    for name, col in (("cluster", cluster), ("strata", strata)):
        if col is not None:
            check_type(name, col, str, "a grouping column name")
            if col not in data.groups.columns:
                raise ParameterError(f"{name} must be a grouping column read with read_survey(..., groups=[...]); "
                                     f"got {col!r}, available: {', '.join(map(str, data.groups.columns)) or 'none'}")
    if cluster is not None:
        check_cluster(cluster, data.groups, data.source)  # at least two clusters
    data.require("E", "P")
    data.require_complete("gap_bootstrap")
    inst = data.instrument
    # Work with integer sums (exact in float64 below 2**53) and divide by a per-column
    # scale at the end: C @ V is then exact, so replicates - and ties with the estimate -
    # do not depend on BLAS summation order, batch size or worker count.
    P = data.responses["P"].astype(np.int64)
    E = data.responses["E"].astype(np.int64)
    G = P - E
    pos = {item: j for j, item in enumerate(inst.items)}
    dims = list(inst.dimension_names)
    sizes = [len(inst.dimensions[d]) for d in dims]
    lcm = int(np.lcm.reduce(sizes))
    Gd = np.column_stack([G[:, [pos[i] for i in inst.dimensions[d]]].sum(axis=1) for d in dims])
    Pd = np.column_stack([P[:, [pos[i] for i in inst.dimensions[d]]].sum(axis=1) for d in dims])
    overall = (Gd * (lcm // np.array(sizes))).sum(axis=1, keepdims=True)
    V = np.hstack([G, Gd, overall, Pd]).astype(float)
    scale = np.concatenate([np.ones(G.shape[1]), sizes, [len(dims) * lcm], sizes]).astype(float)
    # the dimension and overall gap sums are integer combinations of the item gap sums, so only the item
    # gaps and perception sums need resampling (36 -> 30 columns for servqual25); the studentized
    # interval needs every column's own second moments
    n_items = G.shape[1]
    combine = np.zeros((V.shape[1], n_items + len(dims)))
    combine[:n_items, :n_items] = np.eye(n_items)
    for k, d in enumerate(dims):
        members = [pos[i] for i in inst.dimensions[d]]
        combine[n_items + k, members] = 1
        combine[n_items + len(dims), members] = lcm // sizes[k]
        combine[n_items + len(dims) + 1 + k, n_items + k] = 1
    base = np.hstack([G, Pd]).astype(float)
    labels = ([("item", c) for c in data.item_columns("gap")] + [("dimension", d) for d in dims]
              + [("overall", "gap")] + [("perception", d) for d in dims])
    n = len(V)
    clusters = data.groups[cluster].to_numpy() if cluster else None
    strat = data.groups[strata].to_numpy() if strata else None
    studentized = method == "studentized"
    reps, se_reps = _linear_replicates(V if studentized else base, n_resamples, rng, batch_size=batch_size,
                                       clusters=clusters, strata=strat, poisson=poisson, indices=indices,
                                       progress=progress, need_se=studentized,
                                       combine=None if studentized else combine)
    reps /= scale
    se_reps /= scale
    theta = V.sum(axis=0) / n / scale
    V = V / scale
    sd = V.std(axis=0, ddof=1)
    se_hat = sd / np.sqrt(n)
    jack = None
    if method == "bca":
        if clusters is not None:
            codes = pd.factorize(clusters)[0]
            tot = V.sum(axis=0)
            sums = np.stack([V[codes == g].sum(axis=0) for g in range(codes.max() + 1)])
            cnt = np.bincount(codes).astype(float)[:, None]
            jack = (tot - sums) / (n - cnt)  # leave one cluster out
        elif strat is not None:
            # stratified resampling keeps the stratum sizes n_h, so the influence values are centred within
            # strata: L_hj = (n_h/n)(v_hj - mean_h v) (Davison & Hinkley 1997, sec. 3.7; exactly what
            # boot.ci's default empinf(type = "reg") recovers for a mean).  _intervals takes "jackknife"
            # values and uses their deviations from the mean, so pass -L (whose mean is 0).
            codes = pd.factorize(strat)[0]
            nh = np.bincount(codes).astype(float)
            means = np.stack([V[codes == g].mean(axis=0) for g in range(len(nh))])
            jack = -(nh[codes] / n)[:, None] * (V - means[codes])
        else:
            jack = (n * theta - V) / (n - 1)  # exact leave-one-out means, O(n)
    ints = _intervals(theta, reps, se_reps, se_hat, jack, method, confidence_level, interpolation)
    level_arr = np.array([lv for lv, _ in labels])
    p = np.where(level_arr == "perception", np.nan, ints["p_value"])
    p_adj = np.full_like(p, np.nan)
    for lv in ("item", "dimension", "overall"):
        m = level_arr == lv
        p_adj[m] = adjust_pvalues(p[m], adjust)
    tq = t_ppf(1 - (1 - confidence_level) / 2, n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = theta / se_hat
    t_p = np.array([2 * t_sf(abs(v), n - 1) if np.isfinite(v) else np.nan for v in tstat])
    table = pd.DataFrame({
        "level": level_arr, "name": [nm for _, nm in labels], "estimate": theta, "se": ints["se"],
        "ci_low": ints["ci_low"], "ci_high": ints["ci_high"], "p_value": p, "p_adjusted": p_adj,
        "method": method, "t_ci_low": theta - tq * se_hat, "t_ci_high": theta + tq * se_hat,
        "t_p_value": np.where(level_arr == "perception", np.nan, t_p),
    })
    if "acceleration" in ints:  # BCa's a (boot.ci computes it as sum(L^3) / (6 sum(L^2)^1.5))
        table["acceleration"] = ints["acceleration"]
    design = f"cluster bootstrap by {cluster}" if cluster else f"stratified by {strata}" if strata else (
        "Poisson weights" if poisson else "ordinary")
    issued = list(data.warnings)
    undefined = table.loc[table["ci_low"].isna() | table["ci_high"].isna(), "name"].tolist()
    if undefined:
        import warnings as _warnings

        from ._exceptions import SmallSampleWarning

        msg = (f"{method} interval undefined for {', '.join(map(str, undefined[:5]))}"
               + (f" and {len(undefined) - 5} more" if len(undefined) > 5 else "")
               + " (a constant statistic, or too few resamples)")
        _warnings.warn(msg, SmallSampleWarning, stacklevel=2)
        issued.append(msg)
    return BootstrapResult(table, method, len(reps), confidence_level, adjust, n, data.n_dropped, design,
                           warnings=tuple(issued))


def bootstrap(statistic: Callable[[np.ndarray], np.ndarray | float], data: np.ndarray, *, method: Method = "percentile",
              n_resamples: int = 2000, rng: int | np.random.Generator | None = None, confidence_level: float = 0.95,
              clusters: np.ndarray | None = None, strata: np.ndarray | None = None,
              interpolation: Literal["linear", "boot"] = "linear", progress: bool = False) -> pd.DataFrame:
    """Generic bootstrap of any statistic of the rows of ``data`` (percentile, basic, BCa).

    ``statistic(rows)`` returns a scalar or 1-D array.  BCa uses the generic leave-one-out
    jackknife (n evaluations).  Resample streams are per-resample children of one
    SeedSequence, as in :func:`gap_bootstrap`.  Returns ``estimate, se, ci_low, ci_high``
    per component.  ``progress=True`` shows a progress bar on stderr (one step per
    resample: each is a call of ``statistic``); results are the same without it.

    Examples
    --------
    >>> x = np.arange(20.0)[:, None]
    >>> bootstrap(lambda r: r[:, 0].mean(), x, n_resamples=200, rng=0)["estimate"].tolist()
    [9.5]
    """
    method = check_choice("method", method, ("percentile", "basic", "bca"))
    n_resamples = check_int("n_resamples", n_resamples, low=2)
    confidence_level = check_confidence_level(confidence_level)
    interpolation = check_choice("interpolation", interpolation, ("linear", "boot"))
    rng = check_rng(rng)
    progress = check_bool("progress", progress)
    X = np.asarray(data)
    n = len(X)
    theta = np.atleast_1d(np.asarray(statistic(X), float))
    seeds = _seeds(rng, n_resamples)
    reps = np.empty((n_resamples, len(theta)))
    with progress_bar(n_resamples, "bootstrap", progress, unit="resamples") as bar:
        for b in range(n_resamples):
            counts = resample_counts(seeds[b], n, clusters=clusters, strata=strata)[0].astype(int)
            reps[b] = np.atleast_1d(statistic(np.repeat(X, counts, axis=0)))
            bar.update(1)
    jack = None
    if method == "bca":
        jack = np.stack([np.atleast_1d(statistic(np.delete(X, i, axis=0))) for i in range(n)])
    ints = _intervals(theta, reps, np.full_like(reps, np.nan), np.full_like(theta, np.nan), jack, method,
                      confidence_level, interpolation, null=None)
    return pd.DataFrame({"estimate": theta, "se": ints["se"], "ci_low": ints["ci_low"], "ci_high": ints["ci_high"]})
