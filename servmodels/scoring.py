"""SERVQUAL and SERVPERF scoring: respondent-level and aggregate scores.

Definitions (Parasuraman, Zeithaml & Berry 1988, 1991; Cronin & Taylor 1992):

* item gap ``G_i = P_i - E_i`` (the SERVQUAL score of an item);
* a respondent's dimension score is the mean of that dimension's items, for every
  score set and gap;
* the unweighted SERVQUAL score is the mean of the dimension gap scores, and
  SERVPERF is the mean of the dimension perception scores (both ``*_overall``);
* weighted SERVQUAL is ``sum_d w_d * G_d`` with ``w_d`` the respondent's importance
  points for dimension ``d`` divided by their total (PBZ 1991 allocate 100 points),
  or fixed weights normalised to sum to one.

Aggregate item and dimension statistics are means and sample standard deviations
(``ddof=1``) over respondents.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._exceptions import ParameterError
from ._inputs import survey_input
from ._params import check_int, check_type
from ._results import Result, jsonable, text_table
from .data import SurveyData
from .instrument import Instrument, get_instrument

__all__ = ["ScoreResult", "ScoreMoments", "score", "score_moments", "score_summary"]

#: below this many respondents a helper thread costs more than it saves
_THREAD_MIN_ROWS = 200_000


@dataclass(frozen=True)
class ScoreResult(Result):
    """Scores of a survey (frozen).

    Attributes
    ----------
    instrument : Instrument
    scores : tuple of str
        Score names present, e.g. ``("expectation", "perception", "gap")``.
    items : DataFrame
        One row per item: ``item``, ``dimension``, then for each score ``<score>``
        (mean) and ``<score>_sd``.
    dimensions : DataFrame
        One row per dimension (indexed by name) with the same columns, plus a last
        row ``overall`` (mean of the dimension scores).
    respondents : DataFrame or None
        Respondent-level scores ``<score>_<dimension>``, ``<score>_overall`` and
        ``servqual_weighted``; ``None`` in summary-statistics mode.
    n_respondents, n_dropped : int
        Respondents used, and dropped by ``nan_policy="omit"``.
    dropped_rows : tuple of int
        1-based source rows of the dropped respondents.
    weights : dict or None
        Fixed dimension weights used for weighted SERVQUAL, or ``{"source": "importance"}``.
    warnings : tuple of str
    """

    instrument: Instrument
    scores: tuple[str, ...]
    items: pd.DataFrame
    dimensions: pd.DataFrame
    respondents: pd.DataFrame | None
    n_respondents: int | None
    n_dropped: int = 0
    dropped_rows: tuple[int, ...] = ()
    weights: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, float] = field(default_factory=dict)
    extra_moments: Any = field(default=None, repr=False, compare=False)

    @property
    def overall(self) -> dict[str, float]:
        """Overall means: every score's ``overall`` row, plus ``servqual``/``servperf`` aliases."""
        out = {s: float(self.dimensions.at["overall", s]) for s in self.scores}  # type: ignore[arg-type]
        if "gap" in out:
            out["servqual"] = out["gap"]
        if "perception" in out:
            out["servperf"] = out["perception"]
        out.update(self.extra)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``level, name, dimension, score, estimate, sd``."""
        rows = []
        for level, frame in (("item", self.items), ("dimension", self.dimensions.reset_index(names="name"))):
            for rec in frame.to_dict(orient="records"):
                for s in self.scores:
                    rows.append(
                        {
                            "level": level if rec.get("name") != "overall" else "overall",
                            "name": rec["item"] if level == "item" else rec["name"],
                            "dimension": rec["dimension"] if level == "item" else rec["name"],
                            "score": s,
                            "estimate": rec[s],
                            "sd": rec.get(f"{s}_sd", np.nan),
                        }
                    )
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (the CLI's ``--json`` output)."""
        dims = self.dimensions.drop(index="overall")
        return jsonable(
            {
                "instrument": self.instrument.name,
                "scale": list(self.instrument.scale),
                "n_respondents": self.n_respondents,
                "n_dropped": self.n_dropped,
                "dropped_rows": list(self.dropped_rows),
                "scores": list(self.scores),
                "dimensions": {d: {s: dims.loc[d, s] for s in self.scores} for d in dims.index},
                "dimension_sd": {
                    d: {s: dims.loc[d, f"{s}_sd"] for s in self.scores if f"{s}_sd" in dims}
                    for d in dims.index
                },
                "overall": self.overall,
                "items": self.items,
                "weights": dict(self.weights) if self.weights else None,
                "warnings": list(self.warnings),
            }
        )

    def summary(self, digits: int = 2) -> str:
        """Text report of the item and dimension tables."""
        kind = "SERVQUAL scores" if "gap" in self.scores else "SERVPERF scores" if "perception" in self.scores else "Scores"
        head = f"{kind} — {self.instrument.name}, scale {self.instrument.scale[0]}-{self.instrument.scale[1]}"
        n = "summary statistics" if self.n_respondents is None else f"n = {self.n_respondents} respondents used, {self.n_dropped} dropped"
        cols = ["item", "dimension", *self.scores]
        return "\n".join(
            [
                head,
                n,
                "",
                "Items (means)",
                text_table(self.items[cols], digits),
                "",
                "Dimensions (means)",
                text_table(self.dimensions[list(self.scores)].reset_index(names="dimension"), digits),
            ]
        )


def _score_names(instrument: Instrument, sets: tuple[str, ...]) -> list[tuple[str, str | tuple[str, str]]]:
    out: list[tuple[str, str | tuple[str, str]]] = [(instrument.set_name(s), s) for s in sets]
    out += [(g, ab) for g, ab in instrument.gaps.items() if ab[0] in sets and ab[1] in sets]
    return out


def _mean_sd(n: int, total: int, sumsq: int, scale: float = 1.0) -> tuple[float, float]:
    """Mean and sample SD of values/scale from exact integer moments.

    ``var = (n * sum(x^2) - (sum x)^2) / (n (n - 1))`` evaluated in Python integers,
    so the result does not depend on respondent order or on how data were chunked.
    """
    mean = total / (n * scale)
    if n < 2:
        return mean, float("nan")
    num = n * sumsq - total * total
    return mean, float(np.sqrt(num / (n * (n - 1)))) / scale


def _sum_squares(a: np.ndarray, b: np.ndarray, small: bool, acc: type) -> np.ndarray:
    """Column sums of a*b as int64 (exact)."""
    if small:
        # |a*b| <= 121 fits int8: one cheap pass, then an integer column reduction
        return np.multiply(a, b, dtype=np.int8).sum(axis=0, dtype=acc).astype(np.int64)
    return np.einsum("ij,ij->j", a, b, dtype=np.int64)


def _item_moments(data: SurveyData, names: list[tuple[str, str | tuple[str, str]]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-item (sum, sum of squares) as int64, for score sets and gaps.

    A gap's moments come from the sets' moments and the cross-product
    ``sum(P * E)``, so the gap array itself is never materialised.
    """
    lo, hi = data.instrument.scale
    small = max(abs(lo), abs(hi)) <= 11 and all(a.dtype == np.int8 for a in data.responses.values())
    # int32 accumulators are about twice as fast as int64 and exact while n * 121 < 2**31
    acc = np.int32 if data.n_respondents * 121 < np.iinfo(np.int32).max else np.int64
    raw: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for s, arr in data.responses.items():
        total = arr.sum(axis=0, dtype=acc if small else np.int64).astype(np.int64)
        raw[s] = (total, _sum_squares(arr, arr, small, acc))
    out = {}
    for name, src in names:
        if isinstance(src, tuple):
            a, b = src
            cross = _sum_squares(data.responses[a], data.responses[b], small, acc)
            out[name] = (raw[a][0] - raw[b][0], raw[a][1] + raw[b][1] - 2 * cross)
        else:
            out[name] = raw[src]
    return out


#: the compiled scoring pass is used from this many answers (respondents x items) on, or whenever the
#: kernels are loaded already; below it numpy is faster than importing numba (about half a second)
KERNEL_MIN_CELLS = 25_000_000
#: respondents per worker-thread share of the compiled pass (two workers above it)
_KERNEL_SPLIT_ROWS = 100_000


def _stacked_answers(data: SurveyData, sets: tuple[str, ...]) -> np.ndarray | None:
    """The answers of all score sets as one (sets x items, n) C-ordered integer array: the
    transposed array validation stacks them in (no copy), else a copy; None for float answers."""
    arrs = [data.responses[s] for s in sets]
    if any(a.dtype.kind != "i" or a.dtype.itemsize > 2 for a in arrs):
        return None
    base = arrs[0].base
    n, p = arrs[0].shape
    if (base is not None and base.ndim == 2 and base.flags.f_contiguous and base.shape == (n, p * len(arrs))
            and all(a.base is base and a.dtype == base.dtype for a in arrs)):
        start = base.__array_interface__["data"][0]
        if all(a.__array_interface__["data"][0] == start + k * p * n * base.itemsize for k, a in enumerate(arrs)):
            return base.T
    dtype = np.result_type(*arrs)
    out = np.empty((p * len(arrs), n), dtype=dtype)
    for k, a in enumerate(arrs):
        out[k * p : (k + 1) * p] = a.T
    return out


def _kernel_pass(data: SurveyData, names: list[tuple[str, Any]], index: list[np.ndarray], lcm: int,
                 block: np.ndarray | None) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]],
                                                    dict[tuple[str, str], tuple[int, int]]] | None:
    """Item and dimension moments (and, into ``block``, respondent scores) from the compiled pass
    (:func:`servmodels._kernels.score_rows`); None when it does not apply (numpy is used)."""
    from ._compiled import kernels

    n = data.n_respondents
    sets = tuple(data.score_sets)
    k = kernels(n * sum(data.responses[s].shape[1] for s in sets), KERNEL_MIN_CELLS)
    if k is None:
        return None
    Xt = _stacked_answers(data, sets)
    if Xt is None:
        return None
    inst = data.instrument
    dims = inst.dimension_names
    p = data.responses[sets[0]].shape[1]
    sizes = np.array([len(ix) for ix in index], dtype=np.int64)
    dim_items = np.full((len(index), int(sizes.max())), -1, dtype=np.int64)
    for d, ix in enumerate(index):
        dim_items[d, : len(ix)] = ix
    set_pos = {s: i for i, s in enumerate(sets)}
    name_a = np.array([set_pos[src[0] if isinstance(src, tuple) else src] for _, src in names], dtype=np.int64)
    name_b = np.array([set_pos[src[1]] if isinstance(src, tuple) else -1 for _, src in names], dtype=np.int64)
    N, D = len(names), len(dims)
    bounds = [0, n] if n < 2 * _KERNEL_SPLIT_ROWS else [0, n // 2, n]
    parts = []
    for _ in range(len(bounds) - 1):
        parts.append(dict(item_sum=np.zeros((len(sets), p), np.int64), item_sq=np.zeros((len(sets), p), np.int64),
                          cross=np.zeros((N, p), np.int64), dim_sum=np.zeros((N, D + 1), np.int64),
                          dim_sq=np.zeros((N, D + 1), np.int64)))
    out = block if block is not None else np.zeros((1, 1))

    def run(w: int) -> None:
        k.score_rows(Xt, bounds[w], bounds[w + 1], p, len(sets), dim_items, sizes, lcm, name_a, name_b, out,
                     block is not None, **parts[w])

    if len(parts) > 1:  # each worker has its own accumulators: exact integers, summed in a fixed order
        with ThreadPoolExecutor(max_workers=len(parts) - 1) as pool:
            futures = [pool.submit(run, w) for w in range(1, len(parts))]
            run(0)
            for f in futures:
                f.result()
    else:
        run(0)
    acc = {key: sum(part[key] for part in parts) for key in parts[0]}
    items: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for kk, (name, src) in enumerate(names):
        if isinstance(src, tuple):
            a, b = set_pos[src[0]], set_pos[src[1]]
            items[name] = (acc["item_sum"][a] - acc["item_sum"][b],
                           acc["item_sq"][a] + acc["item_sq"][b] - 2 * acc["cross"][kk])
        else:
            items[name] = (acc["item_sum"][set_pos[src]].copy(), acc["item_sq"][set_pos[src]].copy())
    dim_moments = {(name, d): (int(acc["dim_sum"][kk, j]), int(acc["dim_sq"][kk, j]))
                   for kk, (name, _) in enumerate(names) for j, d in enumerate((*dims, "overall"))}
    return items, dim_moments


def _dimension_sums(arr: np.ndarray, index: list[np.ndarray], dtype: type) -> list[np.ndarray]:
    sums = []
    for idx in index:
        acc: np.ndarray = arr[:, idx[0]].astype(dtype)
        for j in idx[1:]:
            acc += arr[:, j]
        sums.append(acc)
    return sums


def _int_moments(v: np.ndarray) -> tuple[int, int]:
    return int(v.sum(dtype=np.int64)), int(np.einsum("i,i->", v, v, dtype=np.int64))


@dataclass(frozen=True)
class ScoreMoments(Result):
    """Mergeable sufficient statistics of :func:`score` (exact integer power sums).

    Likert answers are integers, so item, dimension and overall totals and sums of squares
    are kept as exact integers: merging chunks is plain addition, associative and exact,
    and the means and SDs of any chunking equal those of the whole file bit for bit (the
    exact-arithmetic limit of the Chan, Golub & LeVeque pairwise update).  ``cross`` holds
    the item cross-product matrices (``X'X``) when requested, for covariance matrices,
    alpha and CFA from one pass over a file.
    """

    instrument: Instrument
    names: tuple[tuple[str, Any], ...]
    n: int
    items: Mapping[str, tuple[np.ndarray, np.ndarray]]
    dims: Mapping[tuple[str, str], tuple[int, int]]
    n_dropped: int = 0
    dropped_rows: tuple[int, ...] = ()
    weighted_sum: float | None = None
    warnings: tuple[str, ...] = ()
    cross: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def n_respondents(self) -> int:
        """Respondents these moments summarise."""
        return self.n

    def to_frame(self) -> pd.DataFrame:
        """The long table of :meth:`ScoreResult.to_frame` (item and dimension means and SDs)."""
        return self.to_result().to_frame()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary, as :meth:`ScoreResult.to_dict` (means and SDs, no raw sums)."""
        return self.to_result().to_dict()

    def summary(self, digits: int = 2) -> str:
        return self.to_result().summary(digits)

    def merge(self, other: ScoreMoments) -> ScoreMoments:
        """Moments of the union of two disjoint sets of respondents."""
        if self.names != other.names or self.instrument.dimensions != other.instrument.dimensions:
            raise ParameterError("other: cannot merge moments of different instruments or score sets")
        items = {k: (self.items[k][0] + other.items[k][0], self.items[k][1] + other.items[k][1]) for k in self.items}
        dims = {k: (self.dims[k][0] + other.dims[k][0], self.dims[k][1] + other.dims[k][1]) for k in self.dims}
        cross = None
        if self.cross is not None and other.cross is not None:
            cross = {k: (self.cross[k][0] + other.cross[k][0], self.cross[k][1] + other.cross[k][1]) for k in self.cross}
        ws = None if self.weighted_sum is None or other.weighted_sum is None else self.weighted_sum + other.weighted_sum
        return ScoreMoments(self.instrument, self.names, self.n + other.n, items, dims, self.n_dropped + other.n_dropped,
                            self.dropped_rows + other.dropped_rows, ws,
                            tuple(dict.fromkeys(self.warnings + other.warnings)), cross)

    def aggregate(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Item and dimension tables (means and SDs) exactly as :func:`score` reports them."""
        inst = self.instrument
        n = self.n
        dims = inst.dimension_names
        sizes = {d: float(len(inst.dimensions[d])) for d in dims}
        lcm = int(np.lcm.reduce([len(inst.dimensions[d]) for d in dims]))
        score_names = tuple(name for name, _ in self.names)
        item_frame = pd.DataFrame({"item": list(inst.items), "dimension": [inst.dimension_of(i) for i in inst.items]})
        for name in score_names:
            total, sumsq = self.items[name]
            stats = [_mean_sd(n, int(t), int(q)) for t, q in zip(total, sumsq)]
            item_frame[name] = [m for m, _ in stats]
            item_frame[f"{name}_sd"] = [sd for _, sd in stats]
        rows = {}
        for d in (*dims, "overall"):
            row = {}
            for name in score_names:
                scale = sizes[d] if d != "overall" else float(len(dims) * lcm)
                m, sd = _mean_sd(n, *self.dims[(name, d)], scale)
                if d == "overall":
                    # the overall mean is the mean of the dimension means (PBZ 1991)
                    m = float(np.mean([_mean_sd(n, *self.dims[(name, dd)], sizes[dd])[0] for dd in dims]))
                row[name], row[f"{name}_sd"] = m, sd
            rows[d] = row
        dim_frame = pd.DataFrame.from_dict(rows, orient="index")
        dim_frame.index.name = "dimension"
        return item_frame, dim_frame

    def to_result(self) -> ScoreResult:
        """A :class:`ScoreResult` without respondent-level scores (streaming)."""
        item_frame, dim_frame = self.aggregate()
        extra = {"servqual_weighted": self.weighted_sum / self.n} if self.weighted_sum is not None else {}
        return ScoreResult(instrument=self.instrument, scores=tuple(name for name, _ in self.names), items=item_frame,
                           dimensions=dim_frame, respondents=None, n_respondents=self.n, n_dropped=self.n_dropped,
                           dropped_rows=self.dropped_rows, warnings=self.warnings, extra=extra)

    def covariance(self, score_set: str = "P") -> tuple[np.ndarray, np.ndarray]:
        """Unbiased covariance matrix and means of one score set's items (needs ``cross``)."""
        if self.cross is None or score_set not in self.cross:
            raise ParameterError(f"score_set: covariances of {score_set!r} need moments computed with "
                                 "score_moments(..., cross=True)")
        xtx, tot = self.cross[score_set]
        n = self.n
        mean = tot / n
        # exact integer centring: n X'X - t t' in Python-sized integers via object arithmetic
        num = n * xtx.astype(object) - np.outer(tot.astype(object), tot.astype(object))
        return np.asarray(num / (n * (n - 1)), dtype=float), mean


def _numpy_dim_moments(data: SurveyData, names: list[tuple[str, Any]], index: list[np.ndarray],
                       lcm: int) -> dict[tuple[str, str], tuple[int, int]]:
    """Dimension and overall moments of every score, in numpy (the twin of the compiled pass)."""
    inst = data.instrument
    dims = inst.dimension_names
    lo, hi = inst.scale
    bound = 2 * max(abs(lo), abs(hi)) * max(max(len(ix) for ix in index), lcm * len(dims))
    int_type = np.int16 if bound < np.iinfo(np.int16).max else np.int64
    sums = {s_: _dimension_sums(data.responses[s_], index, int_type) for s_ in data.score_sets}
    dim_moments: dict[tuple[str, str], tuple[int, int]] = {}
    for name, src in names:
        dim_sums = [a - b for a, b in zip(sums[src[0]], sums[src[1]])] if isinstance(src, tuple) else sums[src]
        overall_int = np.zeros(data.n_respondents, dtype=int_type)
        for d, s_int, ix in zip(dims, dim_sums, index):
            dim_moments[(name, d)] = _int_moments(s_int)
            overall_int += s_int * int_type(lcm // len(ix))
        dim_moments[(name, "overall")] = _int_moments(overall_int)
    return dim_moments


#: respondents per block of the numpy moments (temporaries stay in cache instead of fresh memory)
_NUMPY_BLOCK_ROWS = 65_536


def _numpy_moments(data: SurveyData, names: list[tuple[str, Any]], index: list[np.ndarray],
                   lcm: int) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[tuple[str, str], tuple[int, int]]]:
    """Item and dimension moments in numpy, by blocks of respondents (exact integers, summed)."""
    import dataclasses

    n = data.n_respondents
    if n <= 2 * _NUMPY_BLOCK_ROWS:
        return _item_moments(data, names), _numpy_dim_moments(data, names, index, lcm)
    items: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    dims: dict[tuple[str, str], tuple[int, int]] = {}
    for start in range(0, n, _NUMPY_BLOCK_ROWS):
        part = dataclasses.replace(data, rows=data.rows[start : start + _NUMPY_BLOCK_ROWS],
                                   responses={s: a[start : start + _NUMPY_BLOCK_ROWS] for s, a in data.responses.items()})
        it, dm = _item_moments(part, names), _numpy_dim_moments(part, names, index, lcm)
        for key, (t, q) in it.items():
            items[key] = (t, q) if key not in items else (items[key][0] + t, items[key][1] + q)
        for key, (t, q) in dm.items():
            dims[key] = (t, q) if key not in dims else (dims[key][0] + t, dims[key][1] + q)
    return items, dims


def score_moments(data: SurveyData, *, cross: bool = False) -> ScoreMoments:
    """The mergeable moments of :func:`score` for one batch of respondents (no respondent table)."""
    data.require_complete("score_moments")
    inst = data.instrument
    sets = data.score_sets
    dims = inst.dimension_names
    item_pos = {item: j for j, item in enumerate(inst.items)}
    index = [np.array([item_pos[i] for i in inst.dimensions[d]]) for d in dims]
    names = _score_names(inst, sets)
    lcm = int(np.lcm.reduce([len(ix) for ix in index]))
    fast = _kernel_pass(data, names, index, lcm, None)
    if fast is not None:
        item_moments, dim_moments = fast
    else:
        item_moments, dim_moments = _numpy_moments(data, names, index, lcm)
    mom = ScoreMoments(inst, tuple(names), data.n_respondents, item_moments, dim_moments,
                       data.n_dropped, tuple(data.dropped_rows), None, data.warnings)
    if cross:
        c = {}
        for s, arr in data.responses.items():
            X = arr.astype(np.float64)
            c[s] = (np.rint(X.T @ X).astype(np.int64), arr.sum(axis=0, dtype=np.int64))
        mom = ScoreMoments(mom.instrument, mom.names, mom.n, mom.items, mom.dims, mom.n_dropped, mom.dropped_rows,
                           mom.weighted_sum, mom.warnings, c)
    return mom


@survey_input
def score(data: SurveyData, *, weights: str | Mapping[str, float] | None = None) -> ScoreResult:
    """Score a validated survey: SERVQUAL gaps, SERVPERF, respondent and aggregate levels.

    Parameters
    ----------
    data : SurveyData
        From :func:`read_survey` / :func:`validate_survey`.
    weights : None, "importance" or mapping of dimension -> weight
        Weights for weighted SERVQUAL.  ``None`` uses the respondents' importance
        points when the data have them, otherwise no weighted score is computed;
        ``"importance"`` requires them; a mapping gives fixed weights (normalised
        to sum to one).

    Returns
    -------
    ScoreResult

    Notes
    -----
    The dimension score of a respondent is the mean of the dimension's items; the
    unweighted SERVQUAL score is the mean of the five dimension gaps
    (Parasuraman, Berry & Zeithaml 1991, p. 445); SERVPERF (Cronin & Taylor 1992)
    is the same average of perception scores.  Standard deviations use ``n - 1``.
    Item and dimension means and SDs are computed from exact integer moments, so
    they do not depend on respondent order or chunking.

    Examples
    --------
    >>> from servmodels import read_survey, score, load_example
    >>> res = score(read_survey(load_example()))
    >>> round(float(res.dimensions.loc["tangibles", "perception"]), 2)
    3.13
    >>> round(res.overall["servqual"], 2)
    -0.36
    """
    data.require_complete("score")
    inst = data.instrument
    n = data.n_respondents
    sets = data.score_sets
    dims = inst.dimension_names
    item_pos = {item: j for j, item in enumerate(inst.items)}
    index = [np.array([item_pos[i] for i in inst.dimensions[d]]) for d in dims]
    sizes = [float(len(ix)) for ix in index]
    names = _score_names(inst, sets)
    score_names = tuple(name for name, _ in names)

    w = _resolve_weights(data, weights) if "gap" in score_names else None
    if weights is not None and "gap" not in score_names:
        raise ParameterError("weights: weighted SERVQUAL needs both expectation (E) and perception (P) scores")

    # Respondent-level scores are written straight into one (n_columns, n) block,
    # which pandas adopts without a copy (its internal layout).
    resp_cols = [f"{name}_{d}" for name, _ in names for d in (*dims, "overall")]
    if w is not None:
        resp_cols.append("servqual_weighted")
    block = np.empty((len(resp_cols), n))
    col_of = {c: i for i, c in enumerate(resp_cols)}

    lo, hi = inst.scale
    # overall = mean over dimensions of S_d / size_d = sum_d S_d * (L / size_d) / (D * L),
    # with L the least common multiple of the sizes: an integer numerator, so exact.
    lcm = int(np.lcm.reduce([len(ix) for ix in index]))
    # |item gap| <= 2 max|v|, so |S_d| <= 2 max|v| size_d and |overall numerator| <= 2 max|v| L D
    bound = 2 * max(abs(lo), abs(hi)) * max(max(len(ix) for ix in index), lcm * len(dims))
    int_type = np.int16 if bound < np.iinfo(np.int16).max else np.int64
    fast = _kernel_pass(data, names, index, lcm, block)
    # Item moments (integer reductions that release the GIL) run on a second thread
    # while this one builds the respondent-level block; results do not depend on it.
    pool = ThreadPoolExecutor(max_workers=1) if n >= _THREAD_MIN_ROWS and fast is None else None
    moments_future = pool.submit(_item_moments, data, names) if pool else None
    sums = {s: _dimension_sums(data.responses[s], index, int_type) for s in sets} if fast is None else {}
    dim_moments: dict[tuple[str, str], tuple[int, int]] = {} if fast is None else fast[1]
    for name, src in names if fast is None else ():
        if isinstance(src, tuple):
            dim_sums = [sa - sb for sa, sb in zip(sums[src[0]], sums[src[1]])]
        else:
            dim_sums = sums[src]
        overall_int: np.ndarray = np.zeros(n, dtype=int_type)
        for d, s_int, size in zip(dims, dim_sums, sizes):
            dim_moments[(name, d)] = _int_moments(s_int)
            np.divide(s_int, size, out=block[col_of[f"{name}_{d}"]])
            overall_int += s_int * int_type(lcm // int(size))
        dim_moments[(name, "overall")] = _int_moments(overall_int)
        np.divide(overall_int, len(dims) * lcm, out=block[col_of[f"{name}_overall"]])

    used_weights: dict[str, Any] | None = None
    extra: dict[str, float] = {}
    if w is not None:
        gaps = block[[col_of[f"gap_{d}"] for d in dims]]
        target = block[col_of["servqual_weighted"]]
        if w.ndim == 2:
            np.einsum("ji,ij->i", gaps, w, out=target)
            used_weights = {"source": "importance"}
        else:
            np.dot(w, gaps, out=target)
            used_weights = {d: float(x) for d, x in zip(dims, w)}
        extra["servqual_weighted"] = float(target.mean())

    if fast is not None:
        moments = fast[0]
    elif pool is not None and moments_future is not None:
        moments = moments_future.result()
        pool.shutdown()
    else:
        moments = _item_moments(data, names)
    mom = ScoreMoments(instrument=inst, names=tuple(names), n=n, items=moments, dims=dim_moments,
                       n_dropped=data.n_dropped, dropped_rows=tuple(data.dropped_rows),
                       weighted_sum=float(block[col_of["servqual_weighted"]].sum()) if w is not None else None,
                       warnings=data.warnings)
    item_frame, dim_frame = mom.aggregate()
    resp = pd.DataFrame(block.T, columns=resp_cols, copy=False)
    resp.insert(0, "row", data.rows)
    if data.respondent_ids is not None:
        resp.insert(1, inst.respondent_id or "respondent_id", data.respondent_ids)
    return ScoreResult(
        instrument=inst,
        scores=score_names,
        items=item_frame,
        dimensions=dim_frame,
        respondents=resp,
        n_respondents=n,
        n_dropped=data.n_dropped,
        dropped_rows=data.dropped_rows,
        weights=used_weights,
        warnings=data.warnings,
        extra=extra,
        extra_moments=mom,
    )


def _resolve_weights(data: SurveyData, weights: str | Mapping[str, float] | None) -> np.ndarray | None:
    dims = data.instrument.dimension_names
    if weights is None:
        weights = "importance" if data.importance is not None else None
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights != "importance":
            raise ParameterError(f"weights must be None, 'importance' or a mapping, got {weights!r}")
        if data.importance is None:
            raise ParameterError("weights='importance' needs importance columns (Instrument.importance)")
        return data.importance / data.importance.sum(axis=1, keepdims=True)
    check_type("weights", weights, Mapping, "None, 'importance' or a mapping of dimension to weight")
    unknown = sorted(set(weights) - set(dims))
    missing = [d for d in dims if d not in weights]
    if unknown or missing:
        raise ParameterError(
            f"weights must name every dimension ({', '.join(dims)}); "
            f"unknown: {', '.join(unknown) or 'none'}, missing: {', '.join(missing) or 'none'}"
        )
    w = np.array([float(weights[d]) for d in dims])
    if (w < 0).any() or w.sum() <= 0 or not np.isfinite(w).all():
        raise ParameterError(f"weights must be non-negative with a positive total, got {dict(weights)}")
    return w / w.sum()


def score_summary(
    item_means: pd.DataFrame,
    instrument: Instrument | str = "servqual25",
    *,
    n_respondents: int | None = None,
) -> ScoreResult:
    """Dimension and overall scores from published item means (summary-statistics mode).

    Use this to re-analyse a paper that reports only item means, such as Table 8 of
    Sumino & Sutrischastini (2016) bundled as :func:`load_seed_table8`.

    Parameters
    ----------
    item_means : DataFrame
        One row per item with a column ``item`` (item identifier) and columns of
        means named by score set code or long name (``P``/``perception``,
        ``E``/``expectation``, ...).
    instrument : Instrument or str
    n_respondents : int, optional
        Sample size, recorded on the result.

    Returns
    -------
    ScoreResult
        With ``respondents=None`` and no standard deviations.  Dimension scores are
        means of item means; the overall row is the mean of dimension scores, and
        ``extra["sum_<score>"]`` holds the sum of the dimension means (the "JUMLAH"
        row of the seed's Table 9).

    Examples
    --------
    >>> from servmodels import score_summary, load_seed_table8
    >>> res = score_summary(load_seed_table8(), "servqual25")
    >>> res.dimensions.loc["assurance", ["perception", "expectation", "gap"]].round(2).tolist()
    [3.13, 3.57, -0.44]
    """
    from ._exceptions import Problem, ValidationError

    check_type("item_means", item_means, pd.DataFrame, "a DataFrame of item means")
    n_respondents = check_int("n_respondents", n_respondents, low=1, allow_none=True)
    inst = get_instrument(instrument)
    if "item" not in item_means.columns:
        raise ValidationError([Problem("missing_column", "item", "required column is missing")], "<item means>")
    cols = {}
    for c in item_means.columns:
        code = None if c == "item" else inst.set_code(str(c))
        if code is not None:
            cols[code] = c
    sets = tuple(s for s in inst.score_sets if s in cols)
    if not sets:
        raise ValidationError(
            [Problem("missing_column", None, f"no score-set columns found; expected some of {', '.join(inst.score_sets)}")],
            "<item means>",
        )
    keyed = item_means.assign(item=item_means["item"].astype(str).str.strip()).set_index("item")
    problems = []
    missing_items = [i for i in inst.items if i not in keyed.index]
    if missing_items:
        problems.append(Problem("missing_value", "item", f"items not listed: {', '.join(missing_items)}"))
    means: dict[str, np.ndarray] = {}
    lo, hi = inst.scale
    for s in sets:
        vals = pd.to_numeric(keyed[cols[s]].reindex(list(inst.items)), errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(vals) | (vals < lo) | (vals > hi)
        if bad.any() and not missing_items:
            problems.append(
                Problem("out_of_range", cols[s], f"item means must be numbers within the scale {lo}-{hi}", tuple(int(r) for r in np.flatnonzero(bad)[:5] + 1), int(bad.sum()))
            )
        means[s] = vals
    if problems:
        raise ValidationError(problems, "<item means>")
    names = _score_names(inst, sets)
    item_frame = pd.DataFrame({"item": list(inst.items), "dimension": [inst.dimension_of(i) for i in inst.items]})
    for name, src in names:
        item_frame[name] = means[src[0]] - means[src[1]] if isinstance(src, tuple) else means[src]
    score_names = tuple(name for name, _ in names)
    dim_frame = item_frame.groupby("dimension", sort=False)[list(score_names)].mean()
    dim_frame = dim_frame.reindex(list(inst.dimension_names))
    dim_frame.loc["overall"] = dim_frame.mean(axis=0)
    extra = {f"sum_{s}": float(dim_frame.loc[list(inst.dimension_names), s].sum()) for s in score_names}
    return ScoreResult(
        instrument=inst,
        scores=score_names,
        items=item_frame,
        dimensions=dim_frame,
        respondents=None,
        n_respondents=n_respondents,
        extra=extra,
    )
