"""Compiled kernels (servmodels._kernels, numba) against their numpy twins, and the resample stream
against outside definitions.

External references: SplitMix64's published output for seed 1234567 (the reference implementation
of Steele, Lea & Flood 2014 as printed on Rosetta Code, "Pseudo-random numbers/Splitmix64"), the
Poisson(1) distribution function of scipy.stats, and plain-Python re-implementations of Lemire's
bounded integers.  The kernels must give results identical (not close) to the numpy code.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

import servmodels._resample_moments as rm
from servmodels import _compiled, _stream
from servmodels.bootstrap import _seeds

numba = pytest.importorskip("numba", reason="the compiled kernels need numba (servmodels[fast])")
from servmodels import _kernels  # noqa: E402  (imports numba)


def test_splitmix64_reference_outputs():
    # Rosetta Code "Pseudo-random numbers/Splitmix64": state 1234567, first five outputs
    expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431,
                16408922859458223821]
    assert _stream.raw64(1234567, 0, 5).tolist() == expected
    assert _stream.raw64(1234567, 2, 3).tolist() == expected[2:]


def _lemire_plain(key: int, m: int, count: int) -> list[int]:
    """Lemire (2019) with Python integers, one 32-bit half at a time (low half first)."""
    z_all = [int(z) for z in _stream.raw64(key, 0, 4 * count + 64)]
    halves = [h for z in z_all for h in (z & 0xFFFFFFFF, z >> 32)]
    out, pos = [], 0
    while len(out) < count:
        x = halves[pos] * m
        pos += 1
        if x % 2**32 >= (2**32 - m) % m:
            out.append(x >> 32)
    return out


@pytest.mark.parametrize("m", [1, 2, 3, 1000, 2**16, 100_003, 3 * 2**30 + 5, 2**32 - 1])
def test_bounded_numpy_and_kernel_equal_lemire(m):
    # 3 * 2**30 + 5 rejects a quarter of the candidates: the kernel's slow branch is exercised
    for count in (1, 7, 2047, 2048, 2049, 4100):
        key = 977 * m + count
        plain = _lemire_plain(key, m, count) if count < 3000 else None
        a = _stream.bounded(key, m, count)[0]
        b = _kernels.bounded_indices(np.uint64(key), m, count)
        assert np.array_equal(a, b), (m, count)
        if plain is not None:
            assert a.tolist() == plain


def test_bounded_position_continues_the_stream():
    # strata draw one after another from the same stream: the position must be where Lemire stops
    m1, m2 = 3 * 2**30 + 5, 7
    a, pos = _stream.bounded(5, m1, 50)
    b, _ = _stream.bounded(5, m2, 40, pos)
    halves = [h for z in _stream.raw64(5, 0, 400).tolist() for h in (z & 0xFFFFFFFF, z >> 32)]
    out, p = [], 0
    for m, k in ((m1, 50), (m2, 40)):
        got = 0
        while got < k:
            x = halves[p] * m
            p += 1
            if x % 2**32 >= (2**32 - m) % m:
                out.append(x >> 32)
                got += 1
    assert np.concatenate([a, b]).tolist() == out


@pytest.mark.parametrize("n", [1, 2, 5, 1000, 4097, 100_000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ordinary_counts_kernel_equals_numpy(n, dtype):
    keys = _stream.ResampleStream.from_rng(3, 12).keys
    a, b = np.empty((12, n)), np.empty((12, n), dtype=dtype)
    _stream.ordinary_counts_numpy(keys, n, a)
    _kernels.ordinary_counts(keys, n, b)
    assert np.array_equal(a, b)
    assert (b.sum(axis=1) == n).all()


def test_counts_have_the_multinomial_distribution():
    # ordinary counts of n draws: each c_i ~ Binomial(n, 1/n); over B resamples the counts of one
    # respondent have mean 1 and variance 1 - 1/n; all draws together are uniform on 0..n-1
    n, B = 50, 4000
    C = _stream.ResampleStream.from_rng(11, B).counts(n)
    assert abs(C.mean() - 1) < 1e-12  # every resample has exactly n draws
    v = C.var(axis=0, ddof=1)  # per respondent
    se = np.sqrt(2 / (B - 1)) * (1 - 1 / n)  # SE of a sample variance, roughly normal counts
    assert abs(v.mean() - (1 - 1 / n)) < 4 * se / np.sqrt(n)
    freq = np.bincount(C[:, 0].astype(int), minlength=8)[:6]  # P(c_1 = k), k = 0..5
    expect = stats.binom.pmf(np.arange(6), n, 1 / n) * B
    chi2 = ((freq - expect) ** 2 / expect).sum()
    assert chi2 < stats.chi2.ppf(0.999, 5)


def test_poisson_thresholds_are_the_poisson_cdf():
    T = _stream.poisson_thresholds().astype(float) / 2**64
    np.testing.assert_allclose(T, stats.poisson.cdf(np.arange(len(T)), 1.0), rtol=1e-15, atol=2**-60)
    C = _stream.ResampleStream.from_rng(2, 200).counts(500, poisson=True)
    assert abs(C.mean() - 1) < 4 / np.sqrt(C.size) and abs(C.var() - 1) < 4 * np.sqrt(3 / C.size)


def _moments(X, monkeypatch, *, compiled: bool, **kw):
    monkeypatch.setattr(_stream, "KERNEL_MIN_DRAWS", 0)
    if compiled:
        monkeypatch.delenv(_compiled.ENV_DISABLE, raising=False)
    else:
        monkeypatch.setenv(_compiled.ENV_DISABLE, "1")
    return rm.resample_moments(X, 37, 19, pairs=rm.all_pairs(X.shape[1]), **kw)


def test_resample_moments_same_with_and_without_numba(monkeypatch):
    X = np.random.default_rng(4).integers(1, 6, size=(2500, 4)).astype(float)
    ref = _moments(X, monkeypatch, compiled=False)
    for kw in ({}, {"batch_size": 5, "n_workers": 1}, {"batch_size": 11, "n_workers": 3}):
        got = _moments(X, monkeypatch, compiled=True, **kw)
        assert np.array_equal(got.first, ref.first) and np.array_equal(got.second, ref.second), kw


def test_env_variable_forces_numpy(monkeypatch):
    monkeypatch.setenv(_compiled.ENV_DISABLE, "1")
    assert _compiled.kernels() is None
    monkeypatch.setenv(_compiled.ENV_DISABLE, "0")
    assert _compiled.kernels() is _kernels


def test_small_jobs_do_not_import_numba():
    code = ("import sys, servmodels as sm\n"
            "d = sm.read_survey(sm.load_example())\n"
            "sm.score(d); sm.gap_bootstrap(d, n_resamples=200, rng=1)\n"
            "print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_stream_keys_do_not_depend_on_the_number_drawn():
    a = _seeds(8, 3000).keys
    b = _seeds(8, 1100).keys
    assert np.array_equal(a[:1100], b)
    assert len(np.unique(a)) == 3000


# ----------------------------------------------------------------------------- validate and score
import pandas as pd  # noqa: E402

import servmodels as sm  # noqa: E402
import servmodels._validation as val  # noqa: E402
import servmodels.scoring as sc  # noqa: E402


def _likert(n, inst, seed, dtype=np.int8):
    rng = np.random.default_rng(seed)
    cols = [c for s in inst.score_sets for c in inst.columns(s)]
    lo, hi = inst.scale
    return pd.DataFrame(rng.integers(lo, hi + 1, size=(n, len(cols))).astype(dtype), columns=cols)


def _both(monkeypatch, fn):
    """fn() with the compiled kernels forced (thresholds 0) and with SERVMODELS_NO_NUMBA=1."""
    monkeypatch.setattr(sc, "KERNEL_MIN_CELLS", 0)
    monkeypatch.setattr(val, "KERNEL_MIN_CELLS", 0)
    monkeypatch.delenv(_compiled.ENV_DISABLE, raising=False)
    fast = fn()
    monkeypatch.setenv(_compiled.ENV_DISABLE, "1")
    slow = fn()
    monkeypatch.delenv(_compiled.ENV_DISABLE)
    return fast, slow


THREE = {"name": "zot", "dimensions": {"a": [1, 2, 3], "b": [4, 5], "c": [6, 7, 8, 9]},
         "score_sets": ["E", "P", "M", "D"], "scale": [1, 9], "reverse": [2, 7]}


@pytest.mark.parametrize("inst, dtype", [(sm.get_instrument("servqual25").with_scale(1, 5), np.int8),
                                         (sm.get_instrument("servqual22"), np.int16),
                                         (sm.get_instrument(THREE), np.int64)])
def test_score_kernel_equals_numpy(monkeypatch, inst, dtype):
    df = _likert(250_001, inst, 5, dtype)  # odd n: the two workers get unequal halves
    fast, slow = _both(monkeypatch, lambda: sm.score(df, instrument=inst, check_keys=False))
    pd.testing.assert_frame_equal(fast.respondents, slow.respondents, check_exact=True)
    pd.testing.assert_frame_equal(fast.items, slow.items, check_exact=True)
    pd.testing.assert_frame_equal(fast.dimensions, slow.dimensions, check_exact=True)
    data = sm.validate_survey(df, inst, check_keys=False)
    mf, ms = _both(monkeypatch, lambda: sc.score_moments(data))
    assert mf.dims == ms.dims
    for key in mf.items:
        assert all(np.array_equal(a, b) for a, b in zip(mf.items[key], ms.items[key]))


def test_validation_same_with_and_without_numba(monkeypatch):
    inst = sm.get_instrument("servqual25").with_scale(1, 5)
    df = _likert(300_000, inst, 9)
    df["P3"] = 6 - df["P2"]  # a reverse-keyed-looking item and a perfectly correlated pair
    with pytest.warns(sm.ServmodelsWarning):
        fast, slow = _both(monkeypatch, lambda: sm.validate_survey(df, inst))
    assert fast.warnings == slow.warnings and len(fast.warnings) == 2
    for s in fast.responses:
        assert np.array_equal(fast.responses[s], slow.responses[s])
    # the screen on the first respondents must not hide what only the later ones show: an exact
    # relation present in the whole data is present in any subset, so only false alarms can occur
    assert any("P2 and P3" in w for w in fast.warnings)


def test_head_moments_kernel_equals_numpy(monkeypatch):
    inst = sm.get_instrument("servqual22")
    data = sm.validate_survey(_likert(210_000, inst, 3), inst, check_keys=False)
    fast, slow = _both(monkeypatch, lambda: val._integer_head_moments(data.responses["P"], inst))
    for d in fast:
        assert fast[d][0] == slow[d][0] == 200_000
        assert np.array_equal(fast[d][1], slow[d][1]) and np.array_equal(fast[d][2], slow[d][2])
    x = data.responses["P"][:200_000, :4].astype(np.int64)  # tangibles: items 1-4
    assert np.array_equal(fast["tangibles"][2], x.T @ x)


# ----------------------------------------------------------------------------- streaming Arrow path
def _write_parquet(df, path, row_group):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, row_group_size=row_group)


def test_arrow_stream_equals_in_memory_scores(tmp_path):
    inst = sm.get_instrument("servqual25").with_scale(1, 5).with_reverse(["3", "17"])
    df = _likert(5003, inst, 4)
    _write_parquet(df, tmp_path / "s.parquet", 1000)
    res, mom = sm.streaming.stream_score(tmp_path / "s.parquet", inst, chunk_rows=700)
    ref = sm.score(df, instrument=inst, check_keys=False)
    pd.testing.assert_frame_equal(res.dimensions, ref.dimensions, check_exact=True)
    pd.testing.assert_frame_equal(res.items, ref.items, check_exact=True)
    assert mom.n == 5003


def test_arrow_stream_errors_are_the_pandas_paths(tmp_path):
    inst = sm.get_instrument("servqual25").with_scale(1, 5)
    df = _likert(3000, inst, 6)
    df.loc[2500, "P7"] = 9
    df.loc[10, "E1"] = 0
    _write_parquet(df, tmp_path / "bad.parquet", 1000)
    df.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(sm.ValidationError) as a:
        sm.streaming.stream_score(tmp_path / "bad.parquet", inst, chunk_rows=600)
    with pytest.raises(sm.ValidationError) as b:
        sm.streaming.stream_score(tmp_path / "bad.csv", inst, chunk_rows=600)
    assert a.value.problems == b.value.problems
    assert "row 2501" in str(a.value) and "row 11" in str(a.value)
