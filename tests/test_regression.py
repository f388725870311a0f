"""Regression and SERVQUAL-vs-SERVPERF against R (tests/reference/R/regression.R):
lm, sandwich::vcovHC(HC3)/vcovCL(HC1), lmtest::bptest/jtest/coxtest/encomptest, MASS::polr.
Tolerance 1e-9 relative for OLS quantities (closed forms), 1e-6 for polr (optimiser output)."""

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.regression import compare_servqual_servperf, lmg, regress, relative_importance

REF = json.loads((Path(__file__).parent / "reference" / "regression.json").read_text())
DF = pd.read_csv(Path(__file__).parent / "reference" / "data" / "sim_regress.csv")
INST = sm.get_instrument("servqual25").with_scale(1, 5)


@pytest.fixture(scope="module")
def data():
    return sm.read_survey(DF, INST, outcome="satisfaction", groups=["village"])


@pytest.mark.parametrize("name, scores", [("servperf", "P"), ("servqual", "gap")])
@pytest.mark.parametrize("cov, key", [("classical", "se_classical"), ("HC3", "se_hc3"), ("cluster", "se_cluster")])
def test_ols_matches_r(data, name, scores, cov, key):
    res = regress(data, scores=scores, cov_type=cov, cluster="village" if cov == "cluster" else None)
    c = res.coefficients.set_index("term")
    ref = REF[name]
    np.testing.assert_allclose(c["estimate"], list(ref["coef"].values()), rtol=1e-9)
    np.testing.assert_allclose(c["se"], list(ref[key].values()), rtol=1e-9)
    for k in ("r2", "adj_r2", "aic", "bic"):
        assert res.fit[k] == pytest.approx(ref[k], rel=1e-9), k
    assert res.fit["f_statistic"] == pytest.approx(ref["fstat"], rel=1e-9)
    assert res.diagnostics["breusch_pagan"] == pytest.approx(ref["bp"], rel=1e-9)
    assert res.diagnostics["breusch_pagan_p_value"] == pytest.approx(ref["bp_p"], rel=1e-6)


def test_vif_partial_r2_and_beta_closed_forms(data):
    res = regress(data, scores="P", cov_type="classical")
    X, y = sm.regression._design(data, "P")
    c = res.coefficients.set_index("term")
    for d in X.columns:
        others = X.drop(columns=d).to_numpy()
        r2j = sm.regression._r2(others, X[d].to_numpy())
        assert c.loc[d, "vif"] == pytest.approx(1 / (1 - r2j), rel=1e-9)
        assert c.loc[d, "std_estimate"] == pytest.approx(c.loc[d, "estimate"] * X[d].std() / np.std(y, ddof=1), rel=1e-12)
        t = c.loc[d, "statistic"]
        assert c.loc[d, "partial_r2"] == pytest.approx(t * t / (t * t + res.fit["df_resid"]), rel=1e-12)


BFI = Path(__file__).parent / "reference" / "data" / "bfi.csv"
BFI_INST = Path(__file__).parent / "reference" / "instruments" / "bfi.json"


def _check_polr(res, ref):
    """Against MASS::polr (tests/reference/R/regression.R, reltol 1e-15, Hessian with ndeps 1e-5).
    Tolerances: estimates and SEs 1e-6 relative (optimiser output; observed agreement ~1e-9 and
    ~1e-8), log-likelihood 1e-10 relative."""
    np.testing.assert_allclose(res.coefficients["estimate"], list(ref["coef"].values()), rtol=1e-6)
    np.testing.assert_allclose(res.thresholds["estimate"], list(ref["zeta"].values()), rtol=1e-6)
    se = np.concatenate([res.coefficients["se"], res.thresholds["se"]])
    np.testing.assert_allclose(se, list(ref["se"].values()), rtol=1e-6)
    assert list(res.thresholds["threshold"]) == list(ref["zeta"])
    assert list(res.coefficients["term"]) == list(ref["coef"])
    assert res.fit["loglik"] == pytest.approx(ref["loglik"], rel=1e-10)
    assert res.n_respondents == ref["n"]


def test_ordinal_model_matches_polr(data):
    _check_polr(regress(data, scores="P", ordinal=True), REF["polr"])


def test_ordinal_six_levels_on_bfi_traits_matches_polr():
    # the issue-16 case: a 6-level item on the five trait scores, incomplete respondents dropped
    bfi = sm.read_survey(BFI, BFI_INST, outcome="A1", nan_policy="omit")
    res = regress(bfi, ordinal=True)
    _check_polr(res, REF["polr_bfi"])
    assert res.n_dropped == 2800 - REF["polr_bfi"]["n"]


def test_ordinal_score_and_hessian_are_derivatives_of_the_loglik():
    # the closed forms against central differences of the log-likelihood (and of the score)
    from servmodels._ordinal_logit import _loglik_terms, _score_hessian

    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3))
    level = np.digitize(X @ [0.5, -1.0, 0.2] + rng.logistic(size=200), [-1.5, -0.2, 0.7, 2.0])
    theta = np.r_[0.3, -0.7, 0.1, -1.4, -0.3, 0.8, 1.9]

    def ll(t):
        return _loglik_terms(X, level, t[:3], t[3:])[3]

    def score(t):
        a, b, p, _ = _loglik_terms(X, level, t[:3], t[3:])
        return _score_hessian(X, level, 5, a, b, p)

    g, H = score(theta)
    h = 1e-5
    eye = np.eye(len(theta))
    g_num = np.array([(ll(theta + h * e) - ll(theta - h * e)) / (2 * h) for e in eye])
    H_num = np.array([(score(theta + h * e)[0] - score(theta - h * e)[0]) / (2 * h) for e in eye])
    np.testing.assert_allclose(g, g_num, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(H, H_num, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(H, H.T, rtol=1e-12)


def test_ordinal_with_two_levels_is_logistic_regression(data):
    # K = 2: P(Y <= 1) = F(zeta - x'b), i.e. a logit of Y = 2 with intercept -zeta and slopes b
    import statsmodels.api as smapi

    from servmodels._ordinal_logit import fit_ordinal_logit

    X, y = sm.regression._design(data, "P")
    high = (y >= 4).astype(int)
    fit = fit_ordinal_logit(X.to_numpy(), high, 2)
    logit = smapi.Logit(high, smapi.add_constant(X.to_numpy())).fit(disp=False, method="newton", tol=1e-12)
    np.testing.assert_allclose(np.r_[-fit.zeta, fit.beta], logit.params, rtol=1e-7)
    se = np.sqrt(np.diag(fit.cov))
    np.testing.assert_allclose(np.r_[se[-1], se[:-1]], logit.bse, rtol=1e-7)
    assert fit.loglik == pytest.approx(logit.llf, rel=1e-12)


def test_ordinal_separation_is_not_converged_and_one_level_is_refused(data):
    from servmodels._ordinal_logit import fit_ordinal_logit

    X, y = sm.regression._design(data, "P")
    x = X.to_numpy()
    level = np.digitize(x[:, 0], [np.median(x[:, 0])])  # the first predictor separates the levels exactly
    assert not fit_ordinal_logit(x, level, 2).converged  # no maximum: the estimate runs off to infinity
    one = sm.read_survey(DF.assign(satisfaction=3), INST, outcome="satisfaction")
    with pytest.raises(sm.ParameterError, match="at least two levels"):
        regress(one, scores="P", ordinal=True)
    with pytest.raises(sm.ParameterError, match="cluster= with ordinal=True is not implemented"):
        regress(data, scores="P", ordinal=True, cov_type="cluster", cluster="village")


def test_lmg_equals_brute_force_over_orderings(data):
    X, y = sm.regression._design(data, "gap")
    Xa = X.to_numpy()
    p = Xa.shape[1]
    brute = np.zeros(p)
    perms = list(itertools.permutations(range(p)))
    for order in perms:
        prev = 0.0
        for k, j in enumerate(order):
            r2 = sm.regression._r2(Xa[:, list(order[: k + 1])], y)
            brute[j] += r2 - prev
            prev = r2
    brute /= len(perms)
    w = lmg(Xa, y)
    np.testing.assert_allclose(w, brute, rtol=1e-10)
    assert w.sum() == pytest.approx(sm.regression._r2(Xa, y), rel=1e-12)
    imp = relative_importance(data, scores="gap", n_resamples=40, rng=2).table
    assert (imp["ci_low"] <= imp["estimate"]).all() and (imp["estimate"] <= imp["ci_high"]).all()
    pd.testing.assert_frame_equal(imp, relative_importance(data, scores="gap", n_resamples=40, rng=2).table)


def test_nonnested_tests_match_lmtest(data):
    res = compare_servqual_servperf(data, n_resamples=100, rng=3, include_cfa=False, n_repeats=2)
    for key, ref in (("j_test", REF["jtest"]), ("cox_test", REF["coxtest"])):
        got = getattr(res, key)
        assert got["servqual_vs_servperf"]["statistic"] == pytest.approx(ref["statistic"][0], rel=1e-9)
        assert got["servperf_vs_servqual"]["statistic"] == pytest.approx(ref["statistic"][1], rel=1e-9)
        assert got["servperf_vs_servqual"]["p_value"] == pytest.approx(ref["p_value"][1], rel=1e-6)
    e = REF["encomptest"]
    assert res.encompassing_test["servqual_vs_encompassing"]["statistic"] == pytest.approx(e["F"][0], rel=1e-9)
    assert res.encompassing_test["servperf_vs_encompassing"]["p_value"] == pytest.approx(e["p_value"][1], rel=1e-6)
    doc = res.to_dict()
    assert set(doc["servperf"]["coef"]) == {"intercept", "tangibles", "reliability", "responsiveness", "assurance", "empathy"}
    assert doc["servperf"]["se_classical"]["tangibles"] == pytest.approx(REF["servperf"]["se_classical"]["tangibles"], rel=1e-9)
    assert isinstance(doc["cv_r2"]["servperf"], float)


def _survey(sat, rng, set_correlation):
    df = sm.simulate_servqual(600, instrument=INST, rng=rng, set_correlation=set_correlation)
    if sat is not None:
        df["satisfaction"] = sat(df)
    return sm.read_survey(df, INST, outcome="satisfaction")


def test_verdict_when_servperf_clearly_wins():
    # expectations independent of perceptions and irrelevant to satisfaction
    res = compare_servqual_servperf(_survey(None, 11, 0.0), n_resamples=200, rng=1, include_cfa=False, n_repeats=3)
    assert res.verdict.startswith("The evidence favours SERVPERF")
    assert res.cv_r2["servperf"]["mean"] > res.cv_r2["servqual"]["mean"]
    assert res.r2_difference["ci_low"] > 0


def test_verdict_when_neither_explains_satisfaction():
    noise = np.random.default_rng(5)
    res = compare_servqual_servperf(_survey(lambda df: noise.integers(1, 6, len(df)), 12, 0.4),
                                    n_resamples=200, rng=1, include_cfa=False, n_repeats=3)
    assert res.verdict.startswith("Neither measure explains overall satisfaction")
    assert "Caveats:" in res.verdict


def test_outcome_required():
    data = sm.read_survey(DF, INST)
    with pytest.raises(sm.ServmodelsError, match="outcome"):
        regress(data)
