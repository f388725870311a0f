"""Reliability/validity and EFA against semTools 0.5-6 and psych 2.2.9 (tests/reference/R/validity.R).

Tolerances: omega/AVE (CFA-based) 1e-5 relative; HTMT, KMO, Bartlett and eigenvalues (closed
forms of the data) 1e-9; EFA loadings 1e-4 absolute after matching column order and sign
(both programs stop L-BFGS-B at ~1e-6).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment

import servmodels as sm
from servmodels.validity import difference_score_reliability, efa, htmt, validity

REF = json.loads((Path(__file__).parent / "reference" / "validity.json").read_text())
SIM = pd.read_csv(Path(__file__).parent / "reference" / "data" / "sim25.csv")


@pytest.fixture(scope="module")
def data():
    return sm.read_survey(SIM, sm.get_instrument("servqual25").with_scale(1, 5))


@pytest.fixture(scope="module")
def result(data):
    return validity(data, n_resamples=0)


def test_omega_ave_match_semtools(result):
    for dim, v in REF["omega"].items():
        assert result.dimensions.loc[dim, "omega"] == pytest.approx(v, rel=1e-5)
    for dim, v in REF["ave"].items():
        assert result.dimensions.loc[dim, "ave"] == pytest.approx(v, rel=1e-5)
    np.testing.assert_allclose(result.fornell_larcker.to_numpy()[~np.eye(5, dtype=bool)],
                               np.array(REF["factor_cor"])[~np.eye(5, dtype=bool)], rtol=1e-4)
    assert np.allclose(np.diag(result.fornell_larcker), np.sqrt(result.dimensions["ave"]))


def test_composite_reliability_closed_form(result):
    # CR from standardized loadings of the same CFA (Fornell & Larcker 1981)
    res = sm.cfa(sm.read_survey(SIM, sm.get_instrument("servqual25").with_scale(1, 5)), scores="P")
    lam = res.parameters.query("op == '=~'")
    for dim in REF["omega"]:
        std = lam[lam.lhs == dim]["std_all"].to_numpy()
        assert result.dimensions.loc[dim, "composite_reliability"] == pytest.approx(std.sum() ** 2 / (std.sum() ** 2 + (1 - std**2).sum()), rel=1e-8)


def test_htmt_kmo_bartlett_match_r(result):
    np.testing.assert_allclose(result.htmt.to_numpy(), np.array(REF["htmt"]), rtol=1e-9)
    assert result.kmo == pytest.approx(REF["kmo"]["overall"], rel=1e-9)
    np.testing.assert_allclose(result.kmo_items.to_numpy(), REF["kmo"]["items"], rtol=1e-9)
    assert result.bartlett["chisq"] == pytest.approx(REF["bartlett"]["chisq"], rel=1e-9)
    assert result.bartlett["df"] == REF["bartlett"]["df"]


def test_htmt_arithmetic_closed_form():
    R = np.array([[1, .6, .3, .2], [.6, 1, .4, .3], [.3, .4, 1, .5], [.2, .3, .5, 1]])
    g = [np.array([0, 1]), np.array([2, 3])]
    assert htmt(R, g, geometric=False)[0, 1] == pytest.approx(np.mean([.3, .2, .4, .3]) / np.sqrt(.6 * .5), rel=1e-12)
    geo = np.exp(np.mean(np.log([.3, .2, .4, .3])))
    assert htmt(R, g)[0, 1] == pytest.approx(geo / np.sqrt(.6 * .5), rel=1e-12)


def test_bootstrap_is_reproducible_and_brackets_estimates(data):
    a = validity(data, n_resamples=60, rng=7)
    b = validity(data, n_resamples=60, rng=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a.dimensions, b.dimensions)
    pd.testing.assert_frame_equal(a.htmt_ci_high, b.htmt_ci_high)
    d = a.dimensions
    for stat in ("alpha", "omega", "composite_reliability", "ave"):
        assert ((d[f"{stat}_ci_low"] <= d[stat]) & (d[stat] <= d[f"{stat}_ci_high"])).all(), stat
    off = ~np.eye(5, dtype=bool)
    assert (a.htmt_ci_low.to_numpy()[off] <= a.htmt.to_numpy()[off]).all()
    assert set(a.htmt_flags().columns) >= {"pair", "htmt", "above_0.85", "above_0.90"}


def test_difference_score_reliability(result):
    # closed form (Johns 1981): equal variances and reliabilities -> (r - r_PE) / (1 - r_PE)
    assert difference_score_reliability(0.8, 0.8, 2.0, 2.0, 0.3) == pytest.approx((0.8 - 0.3) / (1 - 0.3), rel=1e-12)
    ds = result.difference_scores
    assert ds is not None and list(ds.index)[-1] == "overall"
    row = ds.loc["tangibles"]
    expected = difference_score_reliability(row.alpha_P, row.alpha_E, row.sd_P, row.sd_E, row.r_PE)
    assert row.reliability_gap == pytest.approx(expected, rel=1e-12)
    # alpha_P is psych-validated Cronbach alpha of the P items
    assert row.alpha_P == pytest.approx(result.dimensions.loc["tangibles", "alpha"], rel=1e-12)


def _aligned(A, B):
    r, c = linear_sum_assignment(-np.abs(A.T @ B))
    Bm = B[:, c]
    return A, Bm * np.sign((A * Bm).sum(axis=0))


@pytest.mark.parametrize("name, kw", [
    ("fa_minres_unrotated", {"rotation": None}),
    ("fa_minres_promax", {"rotation": "promax"}),
    ("fa_ml_varimax", {"method": "ml", "rotation": "varimax"}),
    ("fa_minres_oblimin", {"rotation": "oblimin"}),
])
def test_efa_matches_psych_fa(data, name, kw):
    res = efa(data, n_factors=5, n_iter=5, **kw)
    A, B = _aligned(res.loadings.to_numpy(), np.array(REF[name]["loadings"]))
    np.testing.assert_allclose(A, B, atol=1e-4)
    if "phi" in REF[name]:
        r, c = linear_sum_assignment(-np.abs(res.loadings.to_numpy().T @ np.array(REF[name]["loadings"])))
        phi_ref = np.array(REF[name]["phi"])[np.ix_(c, c)]
        np.testing.assert_allclose(np.abs(res.phi.to_numpy()), np.abs(phi_ref), atol=1e-4)


def test_parallel_analysis_eigenvalues_and_congruence(data):
    res = efa(data, n_iter=20, rng=3)
    np.testing.assert_allclose(res.eigenvalues["pc"], REF["parallel"]["pc_values"], atol=1e-10)
    np.testing.assert_allclose(res.eigenvalues["fa"], REF["parallel"]["fa_values"], atol=1e-5)
    assert res.suggested_n_factors == 5  # psych: "the number of factors = 5"
    assert res.congruence["acceptable"].all() and len(set(res.congruence["factor"])) == 5
    again = efa(data, n_iter=20, rng=3)
    pd.testing.assert_frame_equal(res.eigenvalues, again.eigenvalues)
