"""Bootstrap replicates of moment statistics from resample counts, without copying resampled rows.

A bootstrap resample is a vector of counts c (how often each respondent is drawn; see
:func:`servmodels.bootstrap.resample_counts`).  Every statistic that is a function of sample
moments - means, covariances, correlations, Cronbach's alpha, HTMT, the cross-products of a
least-squares fit and hence R^2 - is a function of the weighted sums ``sum_i c_i z_i`` with
``z_i = [x_i, products x_ij x_ik of the pairs needed]``.  The sums of a batch of resamples are
one matrix product ``C Z``, taken over row blocks of Z, so no resampled copy of the data is
made and no statistic is refitted per resample (Efron & Tibshirani 1993, sec. 6.2: the
bootstrap distribution of a plug-in statistic depends on the data only through the resampled
empirical distribution, here through its moments).

Exactness.  Likert answers are small integers.  After subtracting an integer shift (the middle
of each column's range) every z is an integer of small magnitude, so every product ``c_i z_i``
and every partial sum of a block is an integer; while the block's largest possible sum stays
below 2**24 (checked per batch and block from the counts actually drawn) single precision
computes it exactly, else double precision (exact below 2**53).  Exact sums do not depend on
the BLAS summation order, so a resample's sums are the same whatever batch it is in, the block
size or the number of worker threads.  Columns that are not integer-valued (a fractional
outcome) are summed in double precision one resample at a time over blocks of fixed size,
which keeps them independent of the batch size and the number of workers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._progress import progress as progress_bar

__all__ = ["MomentSums", "resample_moments", "all_pairs", "weighted_cov", "alpha_from_cov", "htmt_batch",
           "r2_from_cov"]

#: respondents per row block of Z (fixed: the float64 path for non-integer columns sums in this order)
BLOCK_ROWS = 1 << 16
#: keep the blocks of Z in memory when they need at most this many bytes (else rebuilt per batch)
CACHE_BYTES = 1 << 30
#: counts per batch (batch_size x n) when no batch size is given: 64 MB of float32 per worker (160
#: resamples at n = 100 000: BCa with B = 10 000 took 1.42 s with 80, 1.29 s with 160, 1.27 s with 320, 3.1 s
#: with 16 - the BLAS product wants wide batches)
BATCH_ELEMENTS = 16_000_000
_F32_EXACT = float(2**24)
_F64_EXACT = float(2**53)


@dataclass(frozen=True)
class MomentSums:
    """Weighted sums of B resamples.

    Attributes
    ----------
    w : ndarray (B,)
        Respondents in each resample (sum of counts).
    first : ndarray (B, p)
        ``sum_i c_i (x_i - shift)``.
    second : ndarray (B, m)
        ``sum_i c_i (x_ij - shift_j)(x_ik - shift_k)`` for each pair ``(j, k)`` of ``pairs``.
    shift : ndarray (p,)
        Subtracted from each column before summing (moments about it are exact; central
        moments do not depend on it).
    pairs : ndarray (m, 2)
    """

    w: np.ndarray
    first: np.ndarray
    second: np.ndarray
    shift: np.ndarray
    pairs: np.ndarray

    def means(self) -> np.ndarray:
        """Column means of every resample (B x p)."""
        return self.shift + self.first / self.w[:, None]


def all_pairs(p: int) -> np.ndarray:
    """Every pair (j, k) with j <= k, row by row (the upper triangle of a p x p matrix)."""
    return np.column_stack(np.triu_indices(p))


class _Design:
    """The columns z of every respondent, built and cached by row block."""

    def __init__(self, X: np.ndarray, pairs: np.ndarray, shift: np.ndarray | None, block_rows: int):
        self.n, self.p = X.shape
        self.pairs = pairs
        with np.errstate(invalid="ignore"):
            integer = (np.isfinite(X) & (X == np.rint(X))).all(axis=0) if self.n else np.ones(self.p, dtype=bool)
        if shift is None:
            # integer columns: the middle of their range (an integer, so shifted values stay integers);
            # others: their mean (for conditioning; these columns are summed in float64 anyway)
            shift = np.array([np.floor((X[:, j].min() + X[:, j].max()) / 2) if integer[j] else X[:, j].mean()
                              for j in range(self.p)]) if self.n else np.zeros(self.p)
        self.shift = np.asarray(shift, dtype=np.float64)
        integer &= self.shift == np.rint(self.shift)
        self.X = X
        self.k = self.p + len(pairs)
        col_int = np.concatenate([integer, integer[pairs[:, 0]] & integer[pairs[:, 1]]]) if len(pairs) else integer
        self.exact = np.flatnonzero(col_int)
        self.inexact = np.flatnonzero(~col_int)
        self.block_rows = block_rows
        self.starts = list(range(0, self.n, block_rows)) or [0]
        nbytes = self.n * (4 * len(self.exact) + 8 * len(self.inexact))
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, float]] | None = None
        if nbytes <= CACHE_BYTES:
            self._cache = {s: self._build(s) for s in self.starts}

    def _build(self, start: int) -> tuple[np.ndarray, np.ndarray, float]:
        """Block of z, transposed (columns x respondents: the products are then row operations on
        contiguous memory, several times faster than gathering columns)."""
        xt = np.array(self.X[start : start + self.block_rows].T, dtype=np.float64, order="C") - self.shift[:, None]
        zt = np.vstack([xt, xt[self.pairs[:, 0]] * xt[self.pairs[:, 1]]]) if len(self.pairs) else xt
        ex = zt[self.exact]
        zmax = float(np.abs(ex).max()) if ex.size else 0.0
        # integer values below 2**24 are exact in float32 (the sums are checked separately)
        ex = np.ascontiguousarray(ex, dtype=np.float32 if zmax < _F32_EXACT else np.float64)
        return ex, np.ascontiguousarray(zt[self.inexact]), zmax

    def block(self, start: int) -> tuple[np.ndarray, np.ndarray, float]:
        return self._cache[start] if self._cache is not None else self._build(start)


def _counts_into(buf: np.ndarray, sl: slice, n: int, seeds: Any, indices: np.ndarray | None,
                 clusters: np.ndarray | None, strata: np.ndarray | None, poisson: bool) -> np.ndarray:
    """Counts of the resamples ``sl`` into ``buf``; the whole job's size decides numpy or the kernel."""
    from .bootstrap import resample_counts

    if indices is not None:
        C = buf[: sl.stop - sl.start]
        for r, idx in enumerate(indices[sl]):
            C[r] = np.bincount(idx, minlength=n)
        return C
    return resample_counts(seeds[sl], n, clusters=clusters, strata=strata, poisson=poisson, out=buf,
                           total_draws=len(seeds) * n)


def resample_moments(X: np.ndarray, n_resamples: int | None = None, rng: Any = None, *,
                     pairs: np.ndarray | None = None, shift: np.ndarray | None = None,
                     seeds: Any = None, indices: np.ndarray | None = None,
                     clusters: np.ndarray | None = None, strata: np.ndarray | None = None, poisson: bool = False,
                     batch_size: int | None = None, block_rows: int | None = None, n_workers: int = 2,
                     progress: bool = False, desc: str = "bootstrap", bar: Any = None) -> MomentSums:
    """First and selected second moments of the columns of X in every bootstrap resample.

    Parameters
    ----------
    X : ndarray (n, p)
        Respondents x columns (integer-valued columns are summed exactly).
    n_resamples, rng :
        Resample r is resample r of the stream of ``rng`` (:mod:`servmodels._stream`: n uniform
        draws from SplitMix64 with Lemire's method, counted by a compiled kernel when numba is
        installed, else by numpy, with identical counts).
    pairs : ndarray (m, 2), optional
        Column pairs whose cross-products are summed (:func:`all_pairs` for a covariance).
    shift : ndarray (p,), optional
        Subtracted before summing; default the integer middle of each integer column's range.
    seeds : ResampleStream, optional
        The resamples' keys (:func:`servmodels.bootstrap._seeds`), instead of ``n_resamples`` and ``rng``.
    indices : ndarray (B, n), optional
        Resamples given as row indices (replaying another program's resamples).
    clusters, strata, poisson :
        The designs of :func:`servmodels.bootstrap.resample_counts`.
    batch_size : int, optional
        Resamples per matrix product (memory: batch_size x n counts per worker); the result
        does not depend on it.
    block_rows : int, optional
        Respondents per row block (default :data:`BLOCK_ROWS`); integer-valued columns do not
        depend on it.
    n_workers : int
        Threads filling batches (each with one BLAS thread); the result does not depend on it.
    progress, desc, bar :
        A progress bar on stderr named ``desc``, advanced once per batch; or ``bar``, the caller's.

    Returns
    -------
    MomentSums
    """
    from threadpoolctl import threadpool_limits

    from .bootstrap import _seeds

    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError("X must be 2-D (respondents x columns)")
    n = X.shape[0]
    pairs = np.zeros((0, 2), dtype=np.intp) if pairs is None else np.asarray(pairs, dtype=np.intp).reshape(-1, 2)
    if indices is not None:
        indices = np.asarray(indices)
        B = len(indices)
    elif seeds is not None:
        B = len(seeds)
    else:
        B = int(n_resamples or 0)
        seeds = _seeds(rng, B)
    design = _Design(X, pairs, shift, int(block_rows or BLOCK_ROWS))
    k = design.k
    sums = np.zeros((B, k))
    w = np.zeros(B)
    batch_size = int(batch_size or max(1, min(max(B, 1), BATCH_ELEMENTS // max(n, 1))))
    count_dtype = np.float32 if n < _F32_EXACT else np.float64
    local = threading.local()  # one reusable count buffer per worker: no page faults per batch
    fixed_size = indices is None and clusters is None and not poisson
    ex, inex = design.exact, design.inexact

    def work(sl: slice) -> int:
        b = sl.stop - sl.start
        buf = getattr(local, "buf", None)
        if buf is None or buf.shape[0] < b:
            buf = local.buf = np.empty((batch_size, n), dtype=count_dtype)
        C = _counts_into(buf, sl, n, seeds, indices, clusters, strata, poisson)[:b]
        out = np.zeros((b, k))
        # ordinary and stratified resamples draw exactly n respondents: no pass over the counts to
        # add them up (a second read of B x n counts, a fifth of BCa's time at n = 100 000)
        w[sl] = n if fixed_size else C.sum(axis=1, dtype=np.float64)
        global_mass = float(w[sl].max()) if b else 0.0
        for start in design.starts:
            zex, zin, zmax = design.block(start)
            Cb = C[:, start : start + design.block_rows]
            if len(ex):
                mass = global_mass
                if mass * zmax >= _F32_EXACT:  # the bound from the counts of this block only
                    mass = float(Cb.sum(axis=1, dtype=np.float64).max())
                if mass * zmax < _F32_EXACT and zex.dtype == np.float32 and Cb.dtype == np.float32:
                    out[:, ex] += (zex @ Cb.T).T.astype(np.float64)
                elif mass * zmax < _F64_EXACT:
                    out[:, ex] += (zex.astype(np.float64) @ Cb.T.astype(np.float64)).T
                else:  # pragma: no cover - sums beyond 2**53: not exact in any float type
                    zd = zex.astype(np.float64)
                    for r in range(b):
                        out[r, ex] += zd @ Cb[r].astype(np.float64)
            if len(inex):
                for r in range(b):  # one resample at a time: the same operations whatever the batch
                    out[r, inex] += zin @ Cb[r].astype(np.float64)
        sums[sl] = out
        return b

    slices = [slice(s, min(s + batch_size, B)) for s in range(0, B, batch_size)]
    # parallel over batches with one BLAS thread per worker: BLAS threads on top of the workers (or on
    # cores shared with other work) oversubscribe the cores, and OpenBLAS's waiting threads spin
    own = bar is None
    bar = progress_bar(B, desc, progress, unit="resamples") if own else bar
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            _run(work, slices, n_workers, bar)
    finally:
        if own:
            bar.close()
    p = design.p
    return MomentSums(w=w, first=sums[:, :p], second=sums[:, p:], shift=design.shift, pairs=pairs)


def _run(work: Any, slices: list[slice], n_workers: int, bar: Any) -> None:
    """Batches on ``n_workers`` threads; the bar advances from this thread (the workers only compute)."""
    from concurrent.futures import ThreadPoolExecutor

    if n_workers > 1 and len(slices) > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for done in pool.map(work, slices):
                bar.update(done)
    else:
        for sl in slices:
            bar.update(work(sl))


# ----------------------------------------------------------------------------- statistics from the sums
def weighted_cov(ms: MomentSums) -> np.ndarray:
    """Covariance matrices (B x p x p, divisor n) from sums over :func:`all_pairs`."""
    p = ms.first.shape[1]
    w = ms.w[:, None]
    iu = (ms.pairs[:, 0], ms.pairs[:, 1])
    cross = ms.second - ms.first[:, iu[0]] * ms.first[:, iu[1]] / w  # centred sums of products
    C = np.empty((len(ms.w), p, p))
    C[:, iu[0], iu[1]] = cross / w
    C[:, iu[1], iu[0]] = cross / w
    return C


def alpha_from_cov(C: np.ndarray) -> np.ndarray:
    """Cronbach's alpha k/(k - 1) (1 - tr C / 1'C1) of every covariance matrix in C (B x k x k);
    undefined (NaN) for k < 2 or a non-positive total variance, as psych::alpha."""
    k = C.shape[-1]
    if k < 2:
        return np.full(C.shape[0], np.nan)
    total = C.sum(axis=(1, 2))
    tr = np.trace(C, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, k / (k - 1) * (1 - tr / np.where(total > 0, total, 1.0)), np.nan)


def htmt_batch(R: np.ndarray, groups: list[np.ndarray], *, geometric: bool = True) -> np.ndarray:
    """:func:`servmodels.validity.htmt` of every correlation matrix in R (B x p x p)."""
    A = np.abs(R)
    B = A.shape[0]
    k = len(groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        def avg(block: np.ndarray) -> np.ndarray:  # block: B x m
            return np.exp(np.mean(np.log(block), axis=1)) if geometric else np.mean(block, axis=1)

        mono = np.empty((B, k))
        for a, ia in enumerate(groups):
            if len(ia) > 1:
                sub = A[:, ia][:, :, ia]
                mono[:, a] = avg(sub[:, ~np.eye(len(ia), dtype=bool)])
            else:
                mono[:, a] = np.nan
        out = np.broadcast_to(np.eye(k), (B, k, k)).copy()
        for a in range(k):
            for b in range(a + 1, k):
                v = avg(A[:, groups[a]][:, :, groups[b]].reshape(B, -1)) / np.sqrt(mono[:, a] * mono[:, b])
                out[:, a, b] = out[:, b, a] = v
    return out


def r2_from_cov(C: np.ndarray, x: list[int] | np.ndarray, y: int) -> np.ndarray:
    """R^2 of the least-squares regression (with intercept) of column y on columns x, from each
    covariance matrix in C (B x p x p): s_xy' S_xx^- s_xy / s_yy.  A singular S_xx gives the R^2 of
    the projection on its column space (what a minimum-norm least-squares fit gives)."""
    x = np.asarray(x)
    Sxx = C[:, x][:, :, x]
    sxy = C[:, x, y]
    syy = C[:, y, y]
    try:
        beta = np.linalg.solve(Sxx, sxy[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        beta = np.stack([np.linalg.lstsq(S, s, rcond=None)[0] for S, s in zip(Sxx, sxy)])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.einsum("bj,bj->b", sxy, beta) / syy
