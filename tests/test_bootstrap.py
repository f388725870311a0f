"""Bootstrap engine against scipy.stats.bootstrap and R boot::boot.ci (same resamples)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import servmodels as sm
from servmodels.bootstrap import adjust_pvalues, bootstrap, gap_bootstrap

REF = json.loads((Path(__file__).parent / "reference" / "boot_ci.json").read_text())
IDX = np.loadtxt(Path(__file__).parent / "reference" / "data" / "boot_indices.csv", delimiter=",", dtype=int) - 1


@pytest.fixture(scope="module")
def data():
    return sm.read_survey(sm.load_example(), groups=["village"])


def _row(res, level, name):
    t = res.table
    return t[(t.level == level) & (t.name == name)].iloc[0]


@pytest.mark.parametrize("method, scipy_method", [("percentile", "percentile"), ("basic", "basic"), ("bca", "BCa")])
def test_agrees_with_scipy_on_the_same_resamples(data, method, scipy_method):
    B = 999
    idx = np.random.default_rng(5).integers(0, data.n_respondents, (B, data.n_respondents))  # scipy's draw
    res = gap_bootstrap(data, method=method, indices=idx)
    for col, (level, name) in [(16, ("item", "gap17")), (3, ("item", "gap4"))]:
        g = (data.responses["P"][:, col] - data.responses["E"][:, col]).astype(float)
        ref = stats.bootstrap((g,), np.mean, n_resamples=B, method=scipy_method, rng=np.random.default_rng(5), batch=None)
        row = _row(res, level, name)
        assert row.ci_low == pytest.approx(ref.confidence_interval.low, abs=1e-12)
        assert row.ci_high == pytest.approx(ref.confidence_interval.high, abs=1e-12)
        assert row.se == pytest.approx(ref.standard_error, rel=1e-12)


@pytest.mark.parametrize("method, key", [("percentile", "perc"), ("basic", "basic"), ("bca", "bca"), ("studentized", "stud")])
def test_agrees_with_r_boot_ci_on_fixed_indices(data, method, key):
    res = gap_bootstrap(data, method=method, indices=IDX, interpolation="boot")
    row = _row(res, "item", "gap17")
    assert row.estimate == pytest.approx(REF["gap17"]["t0"], rel=1e-12)
    assert [row.ci_low, row.ci_high] == pytest.approx(REF["gap17"][key], abs=1e-12)
    if method != "bca":
        # dimension means tie with the estimate up to floating-point rounding, which R and
        # numpy resolve differently inside the BCa bias correction; other methods agree exactly
        row = _row(res, "dimension", "assurance")
        assert [row.ci_low, row.ci_high] == pytest.approx(REF["assurance"][key], abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_same_seed_same_result_for_any_batch_size(batch, seed):
    df = sm.simulate_servqual(40, rng=1)
    data = sm.read_survey(df)
    a = gap_bootstrap(data, method="bca", n_resamples=60, rng=seed, batch_size=batch)
    b = gap_bootstrap(data, method="bca", n_resamples=60, rng=np.random.default_rng(seed), batch_size=7)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_paired_t_interval_and_adjustments(data):
    res = gap_bootstrap(data, n_resamples=300, rng=3)
    g = (data.responses["P"][:, 0] - data.responses["E"][:, 0]).astype(float)
    tt = stats.ttest_1samp(g, 0.0)
    row = _row(res, "item", "gap1")
    ci = tt.confidence_interval(0.95)
    assert (row.t_ci_low, row.t_ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert row.t_p_value == pytest.approx(tt.pvalue, rel=1e-9)
    from statsmodels.stats.multitest import multipletests

    items = res.table[res.table.level == "item"]
    np.testing.assert_allclose(items.p_adjusted, multipletests(items.p_value, method="holm")[1], rtol=1e-12)
    p = np.array([0.001, 0.2, 0.03, 0.04, 0.5, 0.0001])
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), multipletests(p, method="fdr_bh")[1], rtol=1e-12)
    assert res.table.query("level == 'perception'").p_value.isna().all()


def test_p_value_inverts_the_interval(data):
    # 0 lies outside the 95% interval exactly when p < 0.05 (test inversion)
    for method in ("percentile", "basic", "bca", "studentized"):
        t = gap_bootstrap(data, method=method, n_resamples=1000, rng=9).table
        t = t[t.level != "perception"]
        outside = (t.ci_high < 0) | (t.ci_low > 0)
        far = (t.p_value < 0.04) | (t.p_value > 0.06)  # away from the Monte-Carlo boundary
        assert ((t.p_value < 0.05) == outside)[far].all(), method


def test_cluster_and_stratified_designs(data):
    cl = gap_bootstrap(data, n_resamples=400, rng=1, cluster="village", method="percentile")
    st_ = gap_bootstrap(data, n_resamples=400, rng=1, strata="village", method="percentile")
    plain = gap_bootstrap(data, n_resamples=400, rng=1, method="percentile")
    assert cl.design.startswith("cluster") and st_.design.startswith("stratified")
    # stratified resampling keeps village sizes fixed, so every resample has n respondents
    assert (st_.table.estimate == plain.table.estimate).all()
    bca = gap_bootstrap(data, n_resamples=400, rng=1, cluster="village", method="bca")
    assert np.isfinite(bca.table.ci_low).all()


def test_generic_bootstrap_matches_linear_engine(data):
    g = (data.responses["P"][:, 16] - data.responses["E"][:, 16]).astype(float)[:, None]
    gen = bootstrap(lambda r: r[:, 0].mean(), g, method="bca", n_resamples=300, rng=4)
    lin = gap_bootstrap(data, method="bca", n_resamples=300, rng=4)
    row = _row(lin, "item", "gap17")
    assert gen["ci_low"].iloc[0] == pytest.approx(row.ci_low, abs=1e-12)
    assert gen["ci_high"].iloc[0] == pytest.approx(row.ci_high, abs=1e-12)


@pytest.mark.slow
def test_bca_coverage_at_n_200():
    # 95% nominal BCa intervals for a Likert gap mean: coverage within 94-96% over 2 000 samples
    rng = np.random.default_rng(2024)
    values = np.array([-2, -1, 0, 1, 2])
    probs = np.array([0.1, 0.25, 0.35, 0.2, 0.1])
    truth = float(values @ probs)
    hits = 0
    reps = 2000
    inst = sm.Instrument(name="one", dimensions={"d": ["1"]}, scale=(-5, 10))
    for r in range(reps):
        g = rng.choice(values, size=200, p=probs)
        e = rng.integers(3, 6, 200)
        df = pd.DataFrame({"E1": e, "P1": e + g})
        res = gap_bootstrap(sm.validate_survey(df, inst), method="bca", n_resamples=999, rng=r)
        row = _row(res, "item", "gap1")
        hits += row.ci_low <= truth <= row.ci_high
    assert 0.94 <= hits / reps <= 0.96
