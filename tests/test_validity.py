"""Reliability/validity and EFA against semTools 0.5-6 and psych 2.2.9 (tests/reference/R/validity.R).

Tolerances: omega/AVE (CFA-based) 1e-5 relative; HTMT, KMO, Bartlett and eigenvalues (closed
forms of the data) 1e-9; EFA loadings, uniquenesses and factor correlations 1e-4 absolute after
matching column order and sign (psych stops L-BFGS-B at its default tolerance; we solve to
~1e-10, observed agreement ~2e-6).  The EFA building blocks (derivatives, batched fits,
assignment) are checked against finite differences, single fits and scipy.
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


def _check_against_psych(res, ref, tol=1e-4):
    """Loadings, uniquenesses and factor correlations against psych::fa, after matching psych's
    factors to ours (order and sign).  Tolerance 1e-4 absolute: psych stops L-BFGS-B at its default
    factr (observed agreement ~2e-6)."""
    A, B = res.loadings.to_numpy(), np.array(ref["loadings"])
    _, c = linear_sum_assignment(-np.abs(A.T @ B))
    sign = np.sign((A * B[:, c]).sum(axis=0))
    np.testing.assert_allclose(A, B[:, c] * sign, atol=tol)
    if "uniquenesses" in ref:
        np.testing.assert_allclose(res.uniquenesses, ref["uniquenesses"], atol=tol)
    if ref.get("phi"):  # R writes NULL (orthogonal rotations) as {}
        phi = np.array(ref["phi"])[np.ix_(c, c)] * np.outer(sign, sign)
        np.testing.assert_allclose(res.phi.to_numpy(), phi, atol=tol)


@pytest.mark.parametrize("name, kw", [
    ("fa_minres_unrotated", {"rotation": None}),
    ("fa_minres_promax", {"rotation": "promax"}),
    ("fa_ml_varimax", {"method": "ml", "rotation": "varimax"}),
    ("fa_minres_oblimin", {"rotation": "oblimin"}),
])
def test_efa_matches_psych_fa(data, name, kw):
    _check_against_psych(efa(data, n_factors=5, **kw), REF[name])


@pytest.fixture(scope="module")
def bfi():
    ref = Path(__file__).parent / "reference"
    return sm.read_survey(ref / "data" / "bfi.csv", ref / "instruments" / "bfi.json", nan_policy="omit")


@pytest.mark.parametrize("name, method, rotation", [
    ("minres_promax", "minres", "promax"), ("ml_promax", "ml", "promax"), ("minres_oblimin", "minres", "oblimin"),
    ("ml_varimax", "ml", "varimax"), ("minres_none", "minres", None),
])
def test_efa_on_bfi_matches_psych_fa(bfi, name, method, rotation):
    res = efa(bfi, n_factors=5, method=method, rotation=rotation)
    assert res.n_respondents == REF["bfi"]["n"]
    _check_against_psych(res, REF["bfi"][name])


def test_bfi_eigenvalues_match_fa_parallel(bfi):
    # closed forms of R (pc, 1e-10) and of the one-factor minres fit (fa, 1e-5: psych's optimiser tolerance)
    res = efa(bfi, n_iter=5, rng=1)
    np.testing.assert_allclose(res.eigenvalues["pc"], REF["bfi"]["parallel"]["pc_values"], atol=1e-10)
    np.testing.assert_allclose(res.eigenvalues["fa"], REF["bfi"]["parallel"]["fa_values"], atol=1e-5)


def test_given_number_of_factors_runs_no_parallel_analysis(data, capsys):
    gen = np.random.default_rng(4)
    state = gen.bit_generator.state
    res = efa(data, n_factors=5, rng=gen, progress=True)
    assert gen.bit_generator.state == state  # no random data drawn
    assert "parallel analysis" not in capsys.readouterr().err
    assert res.suggested_n_factors is None
    assert res.eigenvalues[["pc_random_95", "fa_random_95"]].isna().all().all()
    assert res.to_dict()["suggested_n_factors"] is None
    assert "no parallel analysis" in res.summary()
    pd.testing.assert_frame_equal(res.loadings, efa(data, n_factors=5, n_iter=7, rng=9).loadings)


def test_parallel_analysis_eigenvalues_and_congruence(data):
    res = efa(data, n_iter=20, rng=3)
    np.testing.assert_allclose(res.eigenvalues["pc"], REF["parallel"]["pc_values"], atol=1e-10)
    np.testing.assert_allclose(res.eigenvalues["fa"], REF["parallel"]["fa_values"], atol=1e-5)
    assert res.suggested_n_factors == 5  # psych: "the number of factors = 5"
    assert res.congruence["acceptable"].all() and len(set(res.congruence["factor"])) == 5
    again = efa(data, n_iter=20, rng=3)
    pd.testing.assert_frame_equal(res.eigenvalues, again.eigenvalues)


# ----------------------------------------------------------------------------- EFA building blocks
def _heywood_matrix():
    # two factors, item 0 with communality 1.1 > 1 in the generating loadings: minres puts its
    # uniqueness at psych's lower bound 0.005
    L = np.array([[1.0, 0.3], [0.8, 0.1], [0.7, 0.2], [0.6, 0.0], [0.1, 0.7], [0.2, 0.6], [0.0, 0.8], [0.3, 0.5]])
    S = L @ L.T
    np.fill_diagonal(S, 1.0)
    w, V = np.linalg.eigh(S)
    S = V @ np.diag(np.maximum(w, 0.01)) @ V.T
    d = np.sqrt(np.diag(S))
    return S / np.outer(d, d)


@pytest.mark.parametrize("method", ["minres", "ml"])
@pytest.mark.parametrize("nf", [1, 2])
def test_factor_extraction_gradient_and_hessian_are_derivatives(method, nf):
    from servmodels._factor_extraction import _objective, _values, gradient_hessian

    R = np.corrcoef(SIM.filter(like="P").to_numpy()[:, :8], rowvar=False)[None]
    psi = np.linspace(0.4, 0.9, 8)[None]
    ml = method == "ml"

    def grad_at(q):
        F, e, V, A = _objective(R, q, nf, ml)
        return gradient_hessian(e, V, A, q, nf, ml)

    g, H = grad_at(psi)
    h = 1e-6
    eye = np.eye(8)[:, None, :]
    g_num = np.array([(_values(R, psi + h * E, nf, ml) - _values(R, psi - h * E, nf, ml))[0] / (2 * h) for E in eye])
    H_num = np.array([(grad_at(psi + h * E)[0] - grad_at(psi - h * E)[0])[0] / (2 * h) for E in eye])
    np.testing.assert_allclose(g[0], g_num, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H[0], H_num, rtol=1e-5, atol=1e-7)


def test_batched_fits_equal_single_fits_and_heywood_case_is_at_the_bound():
    from servmodels._factor_extraction import PSI_LOW, _objective, fit_uniquenesses, gradient_hessian
    from servmodels.validity import _random_correlations

    Rs = _random_correlations(np.random.default_rng(3), 200, 12, 8)
    psi, L, F, ok, _ = fit_uniquenesses(Rs, 1, "minres")
    assert ok.all()
    for b in range(len(Rs)):
        one = fit_uniquenesses(Rs[b : b + 1], 1, "minres")
        np.testing.assert_allclose(one[0][0], psi[b], atol=1e-9)
    for method in ("minres", "ml"):
        R = _heywood_matrix()[None]
        psi, L, F, ok, _ = fit_uniquenesses(R, 2, method)
        assert ok[0] and psi[0, 0] == PSI_LOW
        _, e, V, A = _objective(R, psi, 2, method == "ml")
        g, _ = gradient_hessian(e, V, A, psi, 2, method == "ml")
        assert g[0, 0] > 0 and np.abs(g[0, 1:]).max() < 1e-8  # Karush-Kuhn-Tucker: pushes against the bound


def test_assignment_matches_scipy():
    from servmodels._rotation import linear_sum_assignment_max

    rng = np.random.default_rng(0)
    for t in range(200):
        n, m = rng.integers(1, 8, 2)
        C = rng.normal(size=(n, m))
        if t % 3 == 0:
            C = np.round(C)  # ties
        r, c = linear_sum_assignment_max(C)
        r2, c2 = linear_sum_assignment(-C)
        assert C[r, c].sum() == pytest.approx(C[r2, c2].sum(), abs=1e-12)
        assert len(r) == min(n, m) and len(set(c)) == len(c) and list(r) == sorted(r)
