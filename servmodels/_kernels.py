"""Compiled kernels (numba).  Import through :func:`servmodels._compiled.kernels` only: importing
this module imports numba (about half a second), and every kernel here has a numpy twin that
gives identical results (tests/test_kernels.py compares them).

* :func:`ordinary_counts` - the bootstrap's draw-and-count step (the stream of
  :mod:`servmodels._stream`: SplitMix64, Lemire's bounded integers, counted).
* :func:`likert_pass` - the fused validate-and-score pass over int8/int16 Likert answers
  (:mod:`servmodels._fastscore`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["ordinary_counts", "bounded_indices", "score_rows", "pair_sums"]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
#: SplitMix64 outputs generated per vectorised block of the draw loop
_PAIRS = 1024

_jit = nb.njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)


@nb.njit(inline="always", cache=True)
def _mix(z):  # SplitMix64's output function (as servmodels._stream._mix)
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@_jit
def _draw(key, nn, need, row, buf, store):
    """``need`` draws from [0, nn) of one resample's stream: added to the counts ``row`` (zeroed
    by the caller), or with ``store`` written to ``row`` in the order drawn.

    The common case - no rejection among a block's candidates - is a vectorisable loop filling
    ``buf`` followed by the scatter; a block with a rejection (probability about
    2 * _PAIRS * n / 2**32) is redone one candidate at a time, which consumes the 32-bit stream
    exactly as servmodels._stream.bounded does."""
    t = np.uint64((np.uint64(2**32) - nn) % nn)
    j = 0
    k = 0
    while need > 0:
        m = min(_PAIRS, (need + 1) // 2)
        rej = 0
        for i in range(m):
            z = _mix(key + np.uint64(j + i + 1) * _GAMMA)
            x0 = (z & _MASK) * nn
            x1 = (z >> _S32) * nn
            buf[2 * i] = np.uint32(x0 >> _S32)
            buf[2 * i + 1] = np.uint32(x1 >> _S32)
            rej |= np.int64((x0 & _MASK) < t) | np.int64((x1 & _MASK) < t)
        if rej == 0:
            take = min(2 * m, need)
            if store:
                for i in range(take):
                    row[k + i] = buf[i]
                k += take
            else:
                for i in range(take):
                    row[buf[i]] += 1
            need -= take
        else:
            for i in range(m):
                z = _mix(key + np.uint64(j + i + 1) * _GAMMA)
                for half in range(2):
                    x = ((z >> _S32) if half else (z & _MASK)) * nn
                    if need > 0 and (x & _MASK) >= t:
                        if store:
                            row[k] = x >> _S32
                            k += 1
                        else:
                            row[x >> _S32] += 1
                        need -= 1
        j += m


@_jit
def ordinary_counts(keys, n, out):
    """Row r of ``out`` = counts of the n draws of resample r (ordinary design)."""
    buf = np.empty(2 * _PAIRS, dtype=np.uint32)
    for r in range(keys.shape[0]):
        row = out[r]
        row[:] = 0
        _draw(keys[r], np.uint64(n), n, row, buf, False)


@_jit
def bounded_indices(key, m, count):
    """``count`` draws from [0, m) of the stream of ``key`` (as servmodels._stream.bounded)."""
    out = np.empty(count, dtype=np.int64)
    _draw(np.uint64(key), np.uint64(m), count, out, np.empty(2 * _PAIRS, dtype=np.uint32), True)
    return out



@_jit
def score_rows(Xt, i0, i1, p, nsets, dim_items, dim_sizes, lcm, name_a, name_b, block, write_block,
               item_sum, item_sq, cross, dim_sum, dim_sq):
    """The fused scoring pass over respondents i0..i1 (as servmodels.scoring.score / score_moments).

    ``Xt`` (nsets * p, n): the answers of score set s, item j in row ``s * p + j`` (integers).
    Score k is set ``name_a[k]``, or the gap ``name_a[k] - name_b[k]`` when ``name_b[k] >= 0``.
    Adds to the exact integer accumulators ``item_sum, item_sq`` (nsets, p), ``cross`` (N, p: sum of
    a_j * b_j of each gap), ``dim_sum, dim_sq`` (N, D + 1: dimension sums S_d and the overall
    numerator sum_d S_d * lcm / size_d) and, with ``write_block``, writes the respondent scores
    ``S_d / size_d`` and ``overall / (D * lcm)`` to ``block[k * (D + 1) + d, i]`` - the same integer
    sums and the same IEEE divisions as the numpy code, so identical results."""
    # (1-D slices in the inner loops: indexing the 2-D arrays there keeps LLVM from vectorising)
    D = dim_sizes.shape[0]
    N = name_a.shape[0]
    BL = 2048
    ds = np.empty((nsets, D, BL), dtype=np.int64)
    ov = np.empty(BL, dtype=np.int64)
    for b0 in range(i0, i1, BL):
        m = min(BL, i1 - b0)
        for s in range(nsets):
            for j in range(p):
                x = Xt[s * p + j, b0 : b0 + m]
                a1 = 0
                a2 = 0
                for i in range(m):
                    v = np.int64(x[i])
                    a1 += v
                    a2 += v * v
                item_sum[s, j] += a1
                item_sq[s, j] += a2
            for d in range(D):
                acc = ds[s, d, :m]
                acc[:] = 0
                for t in range(dim_sizes[d]):
                    x = Xt[s * p + dim_items[d, t], b0 : b0 + m]
                    for i in range(m):
                        acc[i] += x[i]
        for k in range(N):
            a = name_a[k]
            b = name_b[k]
            if b >= 0:
                for j in range(p):
                    xa = Xt[a * p + j, b0 : b0 + m]
                    xb = Xt[b * p + j, b0 : b0 + m]
                    c = 0
                    for i in range(m):
                        c += np.int64(xa[i]) * np.int64(xb[i])
                    cross[k, j] += c
            o = ov[:m]
            o[:] = 0
            for d in range(D):
                size = dim_sizes[d]
                fsize = np.float64(size)
                w = lcm // size
                sa = ds[a, d, :m]
                sb = ds[b, d, :m] if b >= 0 else ds[a, d, :m]
                sign = 1 if b >= 0 else 0
                out = block[k * (D + 1) + d, b0 : b0 + m] if write_block else block[0, :1]
                s1 = 0
                s2 = 0
                for i in range(m):
                    v = sa[i] - sign * sb[i]
                    o[i] += v * w
                    s1 += v
                    s2 += v * v
                if write_block:
                    for i in range(m):
                        out[i] = (sa[i] - sign * sb[i]) / fsize
                dim_sum[k, d] += s1
                dim_sq[k, d] += s2
            s1 = 0
            s2 = 0
            fden = np.float64(D * lcm)
            for i in range(m):
                v = o[i]
                s1 += v
                s2 += v * v
            if write_block:
                out = block[k * (D + 1) + D, b0 : b0 + m]
                for i in range(m):
                    out[i] = o[i] / fden
            dim_sum[k, D] += s1
            dim_sq[k, D] += s2


@_jit
def pair_sums(Xt, m, cols, pairs, total, cross):
    """Exact sums over the first m respondents: ``total[c] = sum x[cols[c]]`` and, for each pair,
    ``cross[q] = sum x[pairs[q, 0]] * x[pairs[q, 1]]``.  ``Xt`` (items, n): item j's answers in row j."""
    for c in range(cols.shape[0]):
        x = Xt[cols[c], :m]
        a = 0
        for i in range(m):
            a += np.int64(x[i])
        total[c] = a
    for q in range(pairs.shape[0]):
        x = Xt[pairs[q, 0], :m]
        y = Xt[pairs[q, 1], :m]
        a = 0
        for i in range(m):
            a += np.int64(x[i]) * np.int64(y[i])
        cross[q] = a
