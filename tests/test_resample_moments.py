"""Bootstraps from weighted resample moments (servmodels._resample_moments) against the plain computation.

The external reference of every test here is the row-resampling computation written out with numpy:
take the resample's rows ``x[idx]`` from the same index matrix and recompute the statistic from them
(``np.cov``, ``np.corrcoef``, ``np.linalg.lstsq``, scikit-learn's ``cross_val_score``).  The moment-based
replicates must equal it to 1e-10 relative.  And the same seed must give identical numbers whatever
the batch size, row-block size or number of worker threads (exact integer sums).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
import servmodels._resample_moments as rm
from servmodels.bootstrap import _seeds
from servmodels.validity import htmt

INST = sm.get_instrument("servqual25").with_scale(1, 5)
RTOL = 1e-10


@pytest.fixture(scope="module")
def survey():
    return sm.read_survey(sm.simulate_servqual(400, instrument=INST, rng=21), INST, outcome="satisfaction")


def _stream(seed, n_resamples: int, n: int) -> np.ndarray:
    """The index matrix of servmodels' resample stream (docs/bootstrap.md), written out plainly with
    Python integers, one draw at a time: keys from SeedSequence children (1024 resamples each),
    SplitMix64 (Vigna's splitmix64.c), low then high 32-bit halves, Lemire's bounded integers."""
    mask = 2**64 - 1
    keys = [int(k) for child in np.random.SeedSequence(seed).spawn(-(-n_resamples // 1024))
            for k in child.generate_state(1024, np.uint64)][:n_resamples]
    out = np.empty((n_resamples, n), dtype=int)
    for r, state in enumerate(keys):
        halves: list[int] = []
        for i in range(n):
            while True:
                if not halves:
                    state = (state + 0x9E3779B97F4A7C15) & mask
                    z = state
                    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
                    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
                    z ^= z >> 31
                    halves = [z >> 32, z & 0xFFFFFFFF]  # popped from the end: low half first
                x = halves.pop() * n
                if x % 2**32 >= (2**32 - n) % n:
                    out[r, i] = x >> 32
                    break
    return out


def _groups(inst):
    pos = {item: j for j, item in enumerate(inst.items)}
    return [np.array([pos[i] for i in inst.dimensions[d]]) for d in inst.dimension_names]


# ----------------------------------------------------------------------------- the kernel
@pytest.mark.parametrize("fractional", [False, True])
def test_sums_equal_the_resampled_rows(fractional):
    rng = np.random.default_rng(3)
    X = rng.integers(1, 8, size=(257, 6)).astype(float)
    if fractional:
        X[:, -1] = rng.normal(3.3, 1.7, 257)  # a fractional outcome: the float64 path
    idx = rng.integers(0, 257, size=(23, 257))
    ms = rm.resample_moments(X, indices=idx, pairs=rm.all_pairs(6), block_rows=50, batch_size=5)
    for b in range(len(idx)):
        rows = X[idx[b]]
        np.testing.assert_allclose(ms.means()[b], rows.mean(axis=0), rtol=RTOL)
        np.testing.assert_allclose(rm.weighted_cov(ms)[b], np.cov(rows, rowvar=False, ddof=0), rtol=RTOL, atol=1e-13)
    assert np.array_equal(ms.w, np.full(23, 257.0))


def test_counts_stream_is_the_index_stream():
    # resample r of servmodels is child r drawing integers(0, n, n): the moments equal those of x[idx]
    X = np.random.default_rng(0).integers(1, 6, size=(300, 4)).astype(float)
    a = rm.resample_moments(X, 17, 5, pairs=rm.all_pairs(4))
    b = rm.resample_moments(X, indices=_stream(5, 17, 300), pairs=rm.all_pairs(4))
    assert np.array_equal(a.first, b.first) and np.array_equal(a.second, b.second)


@pytest.mark.parametrize("fractional", [False, True])
def test_same_seed_same_sums_whatever_the_batching(monkeypatch, fractional):
    rng = np.random.default_rng(8)
    X = rng.integers(1, 6, size=(3001, 5)).astype(float)
    if fractional:
        X[:, 0] += rng.random(3001)
    ref = rm.resample_moments(X, 40, 11, pairs=rm.all_pairs(5), n_workers=1, batch_size=40)
    for kw in ({"batch_size": 1}, {"batch_size": 7, "n_workers": 2}, {"batch_size": 13, "n_workers": 3}):
        got = rm.resample_moments(X, 40, 11, pairs=rm.all_pairs(5), **kw)
        assert np.array_equal(got.first, ref.first) and np.array_equal(got.second, ref.second), kw
    if not fractional:  # integer columns: exact sums, so the row blocks do not matter either
        for rows in (1, 100, 1000, 10_000):
            got = rm.resample_moments(X, 40, 11, pairs=rm.all_pairs(5), block_rows=rows, batch_size=9)
            assert np.array_equal(got.first, ref.first) and np.array_equal(got.second, ref.second), rows


def test_double_precision_when_single_would_round():
    # values whose block sums exceed 2**24: float32 would round; the kernel must switch to float64
    X = np.random.default_rng(2).integers(0, 3, size=(2000, 2)).astype(float) * 40_000 + 1
    idx = np.random.default_rng(3).integers(0, 2000, size=(6, 2000))
    ms = rm.resample_moments(X, indices=idx, pairs=rm.all_pairs(2), shift=np.zeros(2))
    for b in range(6):
        rows = X[idx[b]]
        assert np.array_equal(ms.first[b], rows.sum(axis=0))
        assert ms.second[b, 0] == (rows[:, 0] ** 2).sum() and ms.second[b, 1] == (rows[:, 0] * rows[:, 1]).sum()


# ----------------------------------------------------------------------------- reliability
def _plain_alpha_htmt(x, groups, idx):
    out_a, out_h = [], []
    for rows in (x[i] for i in idx):
        C = np.cov(rows, rowvar=False)
        out_a.append([len(g) / (len(g) - 1) * (1 - np.trace(C[np.ix_(g, g)]) / C[np.ix_(g, g)].sum()) for g in groups])
        out_h.append(htmt(np.corrcoef(rows, rowvar=False), groups))
    return np.array(out_a), np.array(out_h)


def test_validity_replicates_equal_row_resampling(survey):
    from servmodels.validity import _moment_replicates

    x = survey.item_scores("P").astype(float)
    groups = _groups(survey.instrument)
    got = _moment_replicates(x, groups, 60, np.random.default_rng(4), False, None, [], [], False)
    alpha, H = _plain_alpha_htmt(x, groups, _stream(4, 60, len(x)))
    np.testing.assert_allclose(got["alpha"], alpha, rtol=RTOL)
    np.testing.assert_allclose(got["htmt"], H, rtol=RTOL)


def test_validity_intervals_equal_row_resampling(survey):
    res = sm.validity(survey, n_resamples=80, rng=9, bootstrap_cfa=False)
    x = survey.item_scores("P").astype(float)
    alpha, H = _plain_alpha_htmt(x, _groups(survey.instrument), _stream(9, 80, len(x)))
    np.testing.assert_allclose(res.dimensions["alpha_ci_low"], np.quantile(alpha, 0.025, axis=0), rtol=RTOL)
    np.testing.assert_allclose(res.dimensions["alpha_ci_high"], np.quantile(alpha, 0.975, axis=0), rtol=RTOL)
    np.testing.assert_allclose(res.htmt_ci_high.to_numpy(), np.quantile(H, 0.975, axis=0), rtol=RTOL)


def test_bootstrapped_cfa_from_moments_equals_refit_on_rows(survey):
    # omega/CR/AVE of a resample from its covariance matrix = the refit on its copied rows
    from servmodels.validity import _cfa_quantities, _cfa_quantities_cov

    x = survey.item_scores("P").astype(float)
    cols = list(survey.item_columns("P"))
    groups = _groups(survey.instrument)
    names = list(survey.instrument.dimension_names)
    _, x_hat = _cfa_quantities(x, cols, groups, names)
    for idx in _stream(12, 4, len(x)):
        rows = x[idx]
        C = np.cov(rows, rowvar=False, ddof=0)
        a = _cfa_quantities_cov(C, rows.mean(axis=0), len(rows), cols, groups, names, x_hat)
        b, _ = _cfa_quantities(rows, cols, groups, names, x_hat)
        for k in ("omega", "composite_reliability", "ave"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-8)


# ----------------------------------------------------------------------------- IPA and compare
@pytest.mark.parametrize("importance", ["expectation", "regression"])
def test_ipa_quadrant_shares_equal_row_resampling(survey, importance):
    res = sm.ipa(survey, n_resamples=70, rng=6, importance=importance)
    P, E = survey.responses["P"].astype(float), survey.responses["E"].astype(float)
    y = np.asarray(survey.outcome, float)
    p = P.shape[1]
    counts = np.zeros((4, p))
    for idx in _stream(6, 70, len(P)):
        if importance == "expectation":  # exact: item j at or above the cross-hair iff p * sum_j >= total
            se, sp = E[idx].sum(axis=0), P[idx].sum(axis=0)
            up, low = p * se >= se.sum(), p * sp < sp.sum()
        else:
            Pi, yi = P[idx], y[idx]
            imp = np.array([np.corrcoef(Pi[:, j], yi)[0, 1] for j in range(p)])
            perf = Pi.mean(axis=0)
            up, low = imp >= imp.mean(), perf < perf.mean()
        counts += np.array([up & low, up & ~low, ~up & low, ~up & ~low])
    for q, row in zip(("I", "II", "III", "IV"), counts / 70):
        np.testing.assert_array_equal(res.table[f"p_{q}"].to_numpy(), row)


def _plain_r2(X, y):
    Xc = np.column_stack([np.ones(len(y)), X])
    r = y - Xc @ np.linalg.lstsq(Xc, y, rcond=None)[0]
    return 1 - r @ r / ((y - y.mean()) ** 2).sum()


@pytest.mark.parametrize("fractional", [False, True])
def test_r2_difference_replicates_equal_row_resampling(survey, fractional):
    from servmodels.regression import _design, _r2_difference_replicates

    P = _design(survey, "P")[0].to_numpy()
    G, y = _design(survey, "gap")
    G = G.to_numpy()
    if fractional:
        y = y + np.random.default_rng(1).random(len(y))
    got = _r2_difference_replicates(survey, P, G, y, _seeds(14, 50), False)
    ref = np.array([_plain_r2(P[i], y[i]) - _plain_r2(G[i], y[i]) for i in _stream(14, 50, len(y))])
    np.testing.assert_allclose(got, ref, rtol=RTOL)


def test_compare_interval_equals_row_resampling(survey):
    from servmodels.regression import _design

    res = sm.compare_servqual_servperf(survey, n_resamples=60, rng=5, n_repeats=2, include_cfa=False)
    # the bootstrap's stream: a SeedSequence from the second draw of the generator (the first seeds the folds)
    gen = np.random.default_rng(5)
    gen.integers(0, 2**31 - 1)
    seed = int(gen.integers(0, 2**63 - 1))
    P = _design(survey, "P")[0].to_numpy()
    G, y = _design(survey, "gap")
    reps = np.array([_plain_r2(P[i], y[i]) - _plain_r2(G.to_numpy()[i], y[i]) for i in _stream(seed, 60, len(y))])
    assert res.r2_difference["ci_low"] == pytest.approx(np.quantile(reps, 0.025), rel=RTOL)
    assert res.r2_difference["ci_high"] == pytest.approx(np.quantile(reps, 0.975), rel=RTOL)


def test_cross_validated_r2_equals_scikit_learn(survey):
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import RepeatedKFold, cross_val_score

    from servmodels._progress import Progress
    from servmodels.regression import _cv_r2, _design

    P = _design(survey, "P")[0].to_numpy()
    G, y = _design(survey, "gap")
    folds = list(RepeatedKFold(n_splits=10, n_repeats=2, random_state=3).split(P))
    got = _cv_r2(np.column_stack([P, G, y]), [np.arange(5), 5 + np.arange(5)], (t for _, t in folds), 10, Progress())
    for M, g in ((P, got[0]), (G.to_numpy(), got[1])):
        ref = cross_val_score(LinearRegression(), M, y, cv=folds, scoring="r2")
        np.testing.assert_allclose(g, ref, rtol=RTOL)


# ----------------------------------------------------------------------------- same seed, any batching
def test_public_results_do_not_depend_on_batches_or_blocks(survey, monkeypatch):
    def run():
        return (sm.validity(survey, n_resamples=30, rng=2, bootstrap_cfa=False).dimensions,
                sm.ipa(survey, n_resamples=30, rng=2, importance="regression").table,
                sm.compare_servqual_servperf(survey, n_resamples=30, rng=2, n_repeats=1, include_cfa=False).r2_difference,
                sm.gap_bootstrap(survey, n_resamples=30, rng=2).table)

    ref = run()
    for rows, elements in ((7, 400 * 3), (64, 400 * 11), (1 << 20, 1)):
        monkeypatch.setattr(rm, "BLOCK_ROWS", rows)
        monkeypatch.setattr(rm, "BATCH_ELEMENTS", elements)
        got = run()
        pd.testing.assert_frame_equal(got[0], ref[0], check_exact=True)
        pd.testing.assert_frame_equal(got[1], ref[1], check_exact=True)
        assert got[2] == ref[2]
        pd.testing.assert_frame_equal(got[3], ref[3], check_exact=True)


# ----------------------------------------------------------------------------- parallel analysis
def test_wishart_correlations_have_the_distribution_of_normal_data():
    # R of n iid N(0, I_p) rows: drawn directly (Bartlett) and from data; a two-sample KS test on the
    # largest eigenvalue and an off-diagonal element, and var(r_12) = 1/(n - 1) (Fisher 1915)
    from scipy import stats

    from servmodels.validity import _random_correlation

    n, p, draws = 30, 4, 4000
    g1, g2 = np.random.default_rng(1), np.random.default_rng(2)
    direct = np.array([_random_correlation(g1, n, p) for _ in range(draws)])
    data = np.array([np.corrcoef(g2.standard_normal((n, p)), rowvar=False) for _ in range(draws)])
    for f in (lambda R: np.linalg.eigvalsh(R)[:, -1], lambda R: R[:, 0, 1], lambda R: R[:, 2, 3]):
        assert stats.ks_2samp(f(direct), f(data)).pvalue > 0.001
    assert direct[:, 0, 1].var() == pytest.approx(1 / (n - 1), rel=0.1)
    assert np.allclose(np.einsum("bii->bi", direct), 1.0)
