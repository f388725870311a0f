"""CFA engine against lavaan 0.6-14 (tests/reference/R/lavaan_cfa.R -> lavaan_cfa.json).

Tolerances, per statistic.  lavaan's nlminb stops ~1e-5 from the optimum along flat directions
even with rel.tol = 1e-13, so the reference script Newton-polishes lavaan's estimates on lavaan's
own objective and gradient (tests/reference/R/polish.R) and computes every statistic there; the two
programs then agree to ~1e-10 or better, and the tests assert:
* chi-square, fmin, fit indices: 1e-6 relative (p-values and RMSEA bounds are lavaan's own
  approximations: ~1e-7);
* estimates, SEs, z, std_lv/std_all, R2, implied covariances: 1e-6 relative (+1e-9 absolute);
* the parameter covariance matrix (its distinct variances): 1e-6 relative;
* modification indices, EPCs, sepc.all: 1e-6 relative (+1e-9 absolute);
* residuals (raw, normalized, standardized): 1e-6 absolute.
Our own optimum is at least as good as lavaan's unpolished one (test_our_optimum_is_not_worse).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.sem import cfa, ep_structure_test, instrument_model, measurement_invariance

REF = json.loads((Path(__file__).parent / "reference" / "lavaan_cfa.json").read_text())
DATA = Path(__file__).parent / "reference" / "data"
HS = pd.read_csv(DATA / "holzinger_swineford.csv")
SIM = pd.read_csv(DATA / "sim25.csv")
FIT_KEYS = {
    "npar": "npar", "fmin": "fmin", "chisq": "chisq", "df": "df", "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df", "cfi": "cfi", "tli": "tli", "nfi": "nfi",
    "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_low", "rmsea.ci.upper": "rmsea_ci_high",
    "rmsea.pvalue": "rmsea_pvalue", "srmr": "srmr", "aic": "aic", "bic": "bic", "bic2": "sabic",
    "logl": "loglik", "unrestricted.logl": "unrestricted_loglik",
}
CASES = {
    "hs": (HS, {}),
    "hs_std_lv_wishart": (HS, {"std_lv": True, "likelihood": "wishart"}),
    "hs_meanstructure_labels": (HS, {"meanstructure": True}),
    "hs_second_order": (HS, {}),
    "servqual25_P": (SIM, {}),
}


def fit_case(name):
    data, kw = CASES[name]
    return cfa(data, REF["cases"][name]["model"], **kw)


def match(frame, row, group=None):
    m = frame[(frame.op == row["op"]) & (
        ((frame.lhs == row["lhs"]) & (frame.rhs == row["rhs"])) | ((frame.lhs == row["rhs"]) & (frame.rhs == row["lhs"]))
    )]
    if group is not None:
        m = m[m.group == group]
    assert len(m) == 1, (row, len(m))
    return m.iloc[0]


def check_fit(fit, ref, rtol=1e-6):
    for k, ours in FIT_KEYS.items():
        assert fit[ours] == pytest.approx(ref[k], rel=rtol, abs=1e-12), k


@pytest.fixture(scope="module")
def fits():
    with warnings.catch_warnings():
        warnings.simplefilter("error", sm.ServmodelsWarning)
        return {name: fit_case(name) for name in CASES}


def test_published_holzinger_swineford_chisq(fits):
    # Joreskog / lavaan tutorial: chi2 = 85.306 on 24 df (lavaan defaults)
    assert round(fits["hs"].fit["chisq"], 3) == 85.306 and fits["hs"].fit["df"] == 24
    assert fits["hs"].fit["chisq"] == pytest.approx(REF["default_tolerance_hs_chisq"], rel=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(fits, name):
    check_fit(fits[name].fit, REF["cases"][name]["fit"])
    assert fits[name].converged


@pytest.mark.parametrize("name", list(CASES))
def test_parameters_match_lavaan(fits, name):
    res = fits[name]
    ref = REF["cases"][name]["parameters"]
    assert len(res.parameters) == len(ref)
    for row in ref:
        ours = match(res.parameters, row)
        assert ours["estimate"] == pytest.approx(row["est"], rel=1e-6, abs=1e-9), row
        assert ours["se"] == pytest.approx(row["se"], rel=1e-6, abs=1e-9), row
        assert ours["std_lv"] == pytest.approx(row["std.lv"], rel=1e-6, abs=1e-9), row
        assert ours["std_all"] == pytest.approx(row["std.all"], rel=1e-6, abs=1e-9), row
        if row.get("z") is not None:
            assert ours["z"] == pytest.approx(row["z"], rel=1e-6)
            assert ours["ci_low"] == pytest.approx(row["ci.lower"], rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", list(CASES))
def test_implied_moments_r2_vcov(fits, name):
    res, ref = fits[name], REF["cases"][name]
    np.testing.assert_allclose(res.implied_cov[0].to_numpy(), np.array(ref["implied_cov"]), rtol=1e-6, atol=1e-9)
    r2 = dict(zip(res.r2.variable, res.r2.r2))
    for k, v in ref["r2"].items():
        assert r2[k] == pytest.approx(v, rel=1e-6)
    assert res.vcov.shape == (int(res.fit["npar"]),) * 2
    # lavaan lists equality-constrained parameters once per occurrence: compare distinct variances
    ours = np.unique(np.round(np.diag(res.vcov.to_numpy()), 9))
    theirs = np.unique(np.round(np.diag(np.array(ref["vcov"])), 9))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_residuals(fits, name):
    res, ref = fits[name], REF["cases"][name]
    np.testing.assert_allclose(res.residuals["raw"][0], np.array(ref["resid_raw"]), atol=1e-6)
    np.testing.assert_allclose(res.residuals["normalized"][0], np.array(ref["resid_normalized"]), atol=1e-6)
    np.testing.assert_allclose(res.residuals["standardized"][0], np.array(ref["resid_standardized"], dtype=float), atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_modification_indices(fits, name):
    mi, ref = fits[name].modification_indices, REF["cases"][name]["modindices"]
    assert len(mi) == len(ref)
    for row in ref:
        ours = match(mi, row)
        assert ours["mi"] == pytest.approx(row["mi"], rel=1e-6, abs=1e-9), row
        assert ours["epc"] == pytest.approx(row["epc"], rel=1e-6, abs=1e-9), row
        assert ours["sepc_all"] == pytest.approx(row["sepc.all"], rel=1e-6, abs=1e-9), row


def test_our_optimum_is_not_worse(fits):
    for name in CASES:
        assert fits[name].fit["chisq"] <= REF["cases"][name]["fit"]["chisq"] * (1 + 1e-10)


def test_covariance_matrix_input_equals_raw_data():
    cols = [f"x{i}" for i in range(1, 10)]
    S = pd.DataFrame(np.cov(HS[cols].to_numpy().T), index=cols, columns=cols)
    res = cfa(model=REF["cases"]["hs_from_cov"]["model"], sample_cov=S, n_obs=len(HS))
    check_fit(res.fit, REF["cases"]["hs_from_cov"]["fit"])


def test_invariance_by_school_matches_lavaan_and_published():
    inv = measurement_invariance(HS, REF["cases"]["hs"]["model"], group="school")
    published = {"configural": (115.851, 48), "metric": (124.044, 54), "scalar": (164.103, 60)}
    for lev, ref in REF["cases"]["hs_invariance"]["levels"].items():
        res = inv.fits[lev]
        check_fit(res.fit, ref["fit"])
        for row in ref["parameters"]:
            ours = match(res.parameters, row, group=res.groups[int(row["group"]) - 1])
            assert ours["estimate"] == pytest.approx(row["est"], rel=5e-5, abs=1e-6)
            assert ours["se"] == pytest.approx(row["se"], rel=1e-4, abs=1e-8)
        if lev in published:
            assert (round(res.fit["chisq"], 3), res.fit["df"]) == published[lev]
    t = inv.table.set_index("model")
    assert t.loc["metric", "chisq_diff"] == pytest.approx(124.043544179993 - 115.851343875559, rel=1e-6)
    assert t.loc["metric", "df_diff"] == 6
    assert list(inv.to_dict()["steps"][0])[:3] == ["model", "chisq", "df"]


def test_ep_structure_matches_lavaan_anova():
    ref = REF["cases"]["ep_structure"]
    data = sm.read_survey(SIM, sm.get_instrument("servqual25").with_scale(1, 5))
    res = ep_structure_test(data)
    check_fit(res.fits["free_loadings"].fit, ref["free"]["fit"])
    check_fit(res.fits["equal_loadings"].fit, ref["equal"]["fit"])
    row = res.table.set_index("model").loc["equal_loadings"]
    assert row["chisq_diff"] == pytest.approx(ref["chisq_diff"], rel=1e-6)
    assert row["df_diff"] == ref["df_diff"]
    assert row["p_diff"] == pytest.approx(ref["p_diff"], rel=1e-5)


def test_instrument_models_use_dimension_names():
    data = sm.read_survey(SIM, sm.get_instrument("servqual25").with_scale(1, 5))
    res = cfa(data, scores="P")
    check_fit(res.fit, REF["cases"]["servqual25_P"]["fit"])  # same model as lavaan's syntax
    assert res.parameters.query("op == '=~'")["lhs"].unique().tolist() == list(data.instrument.dimension_names)
    one = cfa(data, scores="P", structure="one_factor")
    assert one.fit["df"] == 25 * 26 / 2 - 50
    second = cfa(data, scores="P", structure="second_order")
    assert second.fit["df"] == res.fit["df"] + 5  # 10 factor covariances replaced by 4 loadings + 1 variance
    gap = cfa(data, scores="gap")
    assert gap.parameters["rhs"].str.startswith("gap").any()
    text = instrument_model(data.instrument, scores="E")
    assert text.splitlines()[0] == "tangibles =~ E1 + E2 + E3 + E4 + E5"


@pytest.mark.parametrize(
    "model, match_text",
    [
        ("f =~ x1 + x2 + nope", "unknown variable"),
        ("f =~ x1 + x2\nf ~~ ", "line 2"),
        ("f = x1 + x2", "line 1: no operator"),
        ("x1 ~~ x2", "no latent variable"),
        ("f =~ NA*x1 + x2 + x3", "has no scale"),
        ("f =~ x1 + x2\ng =~ x3\nf ~ x4", "regressions involving observed"),
        ("f =~ x1 + 2x*x2", "cannot read modifier"),
        ("f =~ x1 + x2\nx1 := 2", "not supported"),
    ],
)
def test_model_specification_errors(model, match_text):
    with pytest.raises(sm.ModelSpecificationError, match=match_text):
        cfa(HS, model)


def test_unidentified_model():
    with pytest.raises(sm.ModelSpecificationError, match="not identified"):
        cfa(HS, "f =~ x1 + x2\nx1 ~~ x2")


def test_heywood_case_is_warned_and_recorded():
    # one factor, three indicators (just identified): lambda_a^2 phi = r_ab r_ac / r_bc = 1.28 > 1,
    # so the residual variance of a must be -0.28 (closed form)
    S = pd.DataFrame([[1, 0.8, 0.8], [0.8, 1, 0.5], [0.8, 0.5, 1]], index=list("abc"), columns=list("abc"))
    with pytest.warns(sm.ServmodelsWarning, match="Heywood"):
        res = cfa(model="f =~ a + b + c", sample_cov=S, n_obs=200)
    theta_a = match(res.parameters, {"lhs": "a", "op": "~~", "rhs": "a"})["estimate"]
    assert theta_a == pytest.approx((1 - 0.8 * 0.8 / 0.5) * 199 / 200, rel=1e-8)
    assert any("negative residual variance of a" in w for w in res.warnings)


def test_missing_values_and_bad_columns():
    df = HS.copy()
    df.loc[[3, 8], "x2"] = np.nan
    with pytest.raises(sm.ValidationError, match=r"column 'x2'.*rows 4, 9"):
        cfa(df, REF["cases"]["hs"]["model"], nan_policy="raise")
    # the default, as lavaan: listwise deletion, counted and listed
    res = cfa(df, REF["cases"]["hs"]["model"])
    assert res.n_respondents == 299 and res.n_dropped == 2 and res.dropped_rows == (4, 9)
    assert cfa(df, REF["cases"]["hs"]["model"], nan_policy="omit").fit["chisq"] == res.fit["chisq"]
    df["x3"] = df["x3"].astype(object)
    df.loc[5, "x3"] = "n/a"
    with pytest.raises(sm.ValidationError, match="column 'x3'.*row 6"):
        cfa(df, REF["cases"]["hs"]["model"], nan_policy="omit")


def test_result_serialises():
    res = cfa(HS, REF["cases"]["hs"]["model"])
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert {"chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "srmr", "aic", "bic", "loglik", "npar"} <= set(doc["fit"])
    assert {"lhs", "op", "rhs", "estimate", "se", "z", "p_value", "ci_low", "ci_high", "std_all"} <= set(doc["parameters"][0])
    assert "chi2(24)" in res.summary()


def test_ml_is_scale_invariant():
    # ML discrepancy is invariant to rescaling variables: chi2 unchanged, loadings scale (closed form)
    model = REF["cases"]["hs"]["model"]
    base = cfa(HS, model)
    scaled = HS.assign(x2=HS["x2"] * 10.0, x5=HS["x5"] / 4.0)
    res = cfa(scaled, model)
    assert res.fit["chisq"] == pytest.approx(base.fit["chisq"], rel=1e-9)
    lam = lambda r, v: match(r.parameters, {"lhs": "visual" if v == "x2" else "textual", "op": "=~", "rhs": v})["estimate"]  # noqa: E731
    assert lam(res, "x2") == pytest.approx(10.0 * lam(base, "x2"), rel=1e-7)
    assert lam(res, "x5") == pytest.approx(lam(base, "x5") / 4.0, rel=1e-7)
    np.testing.assert_allclose(res.parameters["std_all"], base.parameters["std_all"], rtol=1e-7, atol=1e-10)


def test_std_lv_invariance_frees_later_groups_variances_as_lavaan():
    # lavaan: with std.lv = TRUE and equal loadings the factor variances are fixed to 1 only in the first
    # group, so each step is the same model as with marker loadings: the same chi-square and df as
    # lavaan's marker-identified invariance steps (lavaan_cfa.json)
    ref = REF["cases"]["hs_invariance"]
    res = measurement_invariance(HS, ref["model"], group="school", options=sm.SEMOptions(std_lv=True))
    for level, fit in res.fits.items():
        assert fit.fit["chisq"] == pytest.approx(ref["levels"][level]["fit"]["chisq"], rel=1e-6), level
        assert fit.fit["df"] == ref["levels"][level]["fit"]["df"], level
    metric = res.fits["metric"].parameters
    var = metric[(metric.op == "~~") & (metric.lhs == metric.rhs) & (metric.lhs == "visual")]
    assert list(var["free"]) == [False, True] and var["estimate"].iloc[1] != pytest.approx(1.0)
