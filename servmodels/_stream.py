"""The random stream of every servmodels bootstrap (resample counts), in plain numpy.

Definition (stable; documented in docs/bootstrap.md):

1. **Keys.**  ``rng`` gives a ``numpy.random.SeedSequence`` S (a seed or ``None`` builds one, a
   Generator contributes its own ``bit_generator.seed_seq``, a SeedSequence is used as it is).
   Resamples are grouped in fixed blocks of :data:`RESAMPLES_PER_BLOCK`; block k is child k of
   ``S.spawn(...)`` and resample ``r = k * RESAMPLES_PER_BLOCK + i`` has the 64-bit key
   ``child_k.generate_state(RESAMPLES_PER_BLOCK, uint64)[i]``.  A key depends only on S and r,
   never on how many resamples are drawn at once, on which thread, or in which batch.
2. **Raw stream** of a resample with key s: the SplitMix64 outputs ``z_j = mix64(s + (j + 1) * gamma)``,
   j = 0, 1, ... (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators",
   OOPSLA; the constants of Vigna's reference ``splitmix64.c``), and the 32-bit stream
   ``u_0, u_1, ... = low(z_0), high(z_0), low(z_1), high(z_1), ...``.
3. **Uniform integers in [0, m)** (m < 2**32): Lemire's multiply-and-reject method (Lemire 2019,
   "Fast random integer generation in an interval", ACM TOMACS 29(1)): take the next u,
   ``x = u * m``; reject when ``x mod 2**32 < (2**32 - m) mod m``, else return ``x >> 32``.  Exactly
   uniform (rejection removes the bias of the multiplication).
4. **Designs.**  Ordinary: n draws from [0, n), counted.  Cluster: G draws from [0, G), each
   respondent gets their cluster's count.  Stratified: for each stratum in order of first
   appearance, n_h draws from [0, n_h) continuing the same stream.  Poisson: respondent i's weight
   is the number of thresholds ``T_k = floor(2**64 F(k))`` (F the Poisson(1) distribution function)
   that ``z_i`` reaches: Poisson(1) to within 2**-64 per value.

The compiled kernel (:mod:`servmodels._kernels`) draws the ordinary design from the same
definition; this module is the reference it is tested against and the fallback without numba.
SplitMix64 passes BigCrush; resamples use disjoint stretches of the generator except with
probability about ``B**2 * n / 2**65`` (1e-6 at B = 10 000, n = 100 000), and even then share
draws, not a bias.
"""

from __future__ import annotations

from decimal import Decimal, getcontext
from typing import Any

import numpy as np

__all__ = ["ResampleStream", "RESAMPLES_PER_BLOCK", "raw64", "bounded", "poisson_thresholds"]

#: resamples per SeedSequence child (fixed: part of the stream's definition)
RESAMPLES_PER_BLOCK = 1024
GAMMA = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
#: the compiled ordinary draw is used from this many draws (B x n of the whole job) on: below it
#: numpy's time (about 7 ns a draw) is less than importing numba and loading the kernel
KERNEL_MIN_DRAWS = 50_000_000
#: 32-bit candidates per numpy step (64 KiB temporaries)
_CHUNK = 8192


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function (Stafford's "Mix13"), in place on a uint64 array."""
    z ^= z >> np.uint64(30)
    z *= MIX1
    z ^= z >> np.uint64(27)
    z *= MIX2
    z ^= z >> np.uint64(31)
    return z


def raw64(key: int | np.uint64, start: int, count: int) -> np.ndarray:
    """Outputs ``z_start .. z_(start+count-1)`` of the raw 64-bit stream of ``key``."""
    j = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = j * GAMMA + np.uint64(key)  # uint64 arithmetic wraps modulo 2**64, as intended
        return _mix(z)


def _raw32(key: int | np.uint64, pos: int, count: int) -> np.ndarray:
    """``u_pos .. u_(pos+count-1)`` of the 32-bit stream (low half of z_j first), as uint64."""
    j0, odd = divmod(pos, 2)
    z = raw64(key, j0, (odd + count + 1) // 2)
    u = np.empty(2 * len(z), dtype=np.uint64)
    u[0::2] = z & _MASK
    u[1::2] = z >> _S32
    return u[odd : odd + count]


def bounded(key: int | np.uint64, m: int, count: int, pos: int = 0) -> tuple[np.ndarray, int]:
    """``count`` uniform integers in [0, m) from the 32-bit stream of ``key`` starting at position
    ``pos``; returns them (int64) and the position after the last value used."""
    if not 0 < m <= 2**32:
        raise ValueError(f"m must be in 1..2**32, got {m}")
    mm = np.uint64(m)
    t = np.uint64((2**32 - m) % m)  # Lemire's rejection threshold
    out = np.empty(count, dtype=np.int64)
    got = 0
    while got < count:
        # chunks of at most _CHUNK candidates: small temporaries come from the heap, not from fresh
        # (page-faulting) memory maps, which costs more than the arithmetic
        L = min(count - got + 16, _CHUNK)
        x = _raw32(key, pos, L)
        x *= mm
        ok = (x & _MASK) >= t
        x >>= _S32
        vals = x[ok]
        take = min(len(vals), count - got)
        out[got : got + take] = vals[:take]
        got += take
        pos += int(np.flatnonzero(ok)[take - 1]) + 1 if got == count else L
    return out, pos


def poisson_thresholds() -> np.ndarray:
    """``T_k = floor(2**64 F(k))`` for the Poisson(1) distribution function F, while below 2**64
    (exact: 60-digit decimal arithmetic)."""
    getcontext().prec = 60
    e_inv = Decimal(-1).exp()
    out = []
    term, cdf, k = Decimal(1), Decimal(0), 0
    while True:
        cdf += term * e_inv
        t = int(cdf * (Decimal(2) ** 64))
        if t >= 2**64:
            break
        out.append(t)
        k += 1
        term /= k
    return np.array(out, dtype=np.uint64)


_POISSON_T = poisson_thresholds()


def ordinary_counts_numpy(keys: np.ndarray, n: int, out: np.ndarray) -> None:
    """Counts of the ordinary design, one row of ``out`` per key (the numpy reference)."""
    for r, key in enumerate(keys):
        idx, _ = bounded(key, n, n)
        out[r] = np.bincount(idx, minlength=n)


class ResampleStream:
    """The keys of B resamples (see the module docstring); sliceable like a list.

    Examples
    --------
    >>> s = ResampleStream.from_rng(7, 3)
    >>> len(s), s.counts(5).sum(axis=1).tolist()
    (3, [5.0, 5.0, 5.0])
    """

    def __init__(self, keys: np.ndarray):
        self.keys = np.asarray(keys, dtype=np.uint64).reshape(-1)

    @classmethod
    def from_rng(cls, rng: int | np.random.Generator | np.random.SeedSequence | None, n_resamples: int) -> ResampleStream:
        if isinstance(rng, np.random.Generator):
            base = rng.bit_generator.seed_seq
        elif isinstance(rng, np.random.SeedSequence):
            base = rng
        else:
            base = np.random.SeedSequence(rng)
        n_blocks = -(-int(n_resamples) // RESAMPLES_PER_BLOCK)
        keys = [child.generate_state(RESAMPLES_PER_BLOCK, np.uint64) for child in base.spawn(n_blocks)]
        return cls(np.concatenate(keys)[:n_resamples] if keys else np.zeros(0, dtype=np.uint64))

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, item: Any) -> ResampleStream:
        if isinstance(item, (int, np.integer)):
            item = slice(int(item), int(item) + 1 if item != -1 else None)
        return ResampleStream(self.keys[item])

    def __repr__(self) -> str:
        return f"ResampleStream({len(self)} resamples)"

    def counts(self, n: int, *, clusters: np.ndarray | None = None, strata: np.ndarray | None = None,
               poisson: bool = False, out: np.ndarray | None = None, total_draws: int | None = None) -> np.ndarray:
        """Count matrix (B x n) of the design: how often each respondent enters each resample.

        ``total_draws`` (the whole job's, when this is one batch of it) decides whether the
        compiled kernel is worth loading; the counts are the same either way."""
        from ._compiled import kernels

        B = len(self.keys)
        C = np.empty((B, n)) if out is None else out[:B]
        if n >= 2**32:
            raise ValueError(f"at most 2**32 - 1 respondents per resample, got {n}")
        if clusters is not None:
            import pandas as pd

            codes = pd.factorize(clusters)[0]
            G = int(codes.max()) + 1
            for r, key in enumerate(self.keys):
                C[r] = np.bincount(bounded(key, G, G)[0], minlength=G)[codes]
        elif strata is not None:
            import pandas as pd

            s_codes = pd.factorize(strata)[0]
            members = [np.flatnonzero(s_codes == s) for s in range(int(s_codes.max()) + 1)]
            for r, key in enumerate(self.keys):
                pos = 0
                for m in members:
                    idx, pos = bounded(key, len(m), len(m), pos)
                    C[r, m] = np.bincount(idx, minlength=len(m))
        elif poisson:
            for r, key in enumerate(self.keys):
                C[r] = np.searchsorted(_POISSON_T, raw64(key, 0, n), side="right")
        else:
            k = kernels(total_draws or B * n, KERNEL_MIN_DRAWS)
            if k is not None and n > 0:
                k.ordinary_counts(self.keys, n, C)
            else:
                ordinary_counts_numpy(self.keys, n, C)
        return C

    def indices(self, n: int) -> np.ndarray:
        """Row indices (B x n) of the ordinary design, in the order drawn."""
        return np.stack([bounded(key, n, n)[0] for key in self.keys]) if len(self.keys) else np.zeros((0, n), int)
