"""The SEM core: one options object reaching every analysis, the estimator registry, one
fit-measures function, listwise deletion as lavaan, strictness.

References (external):
* tests/reference/lavaan_cfa.json (lavaan 0.6-14) for the closed-form fit indices;
* tests/reference/validity_options.json from tests/reference/R/validity_options.R (lavaan, semTools)
  on tests/reference/data/sim25_missing.csv: the simulated 25-item survey (sim25.csv) with 1.5 % of
  every P column deleted at random (numpy default_rng(20261128), ``rng.random(n) < 0.015`` per column).

Tolerances: closed forms 1e-9 relative; chi-square and fit indices 1e-6 relative (lavaan stops at
rel.tol 1e-10 here: nlminb reports false convergence at tighter values; the chi-squares agree to
3e-11); omega/AVE 1e-5 (ratios of estimates, which lavaan has to ~1e-6); HTMT under FIML 1e-6 (EM
estimates of both programs).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.sem import SEMOptions, TestStatistic, fit_measures, get_estimator, registered
from servmodels.sem.options import resolve_options

REF = Path(__file__).parent / "reference"
CFA_REF = json.loads((REF / "lavaan_cfa.json").read_text())
VAL_REF = json.loads((REF / "validity_options.json").read_text())
HS = pd.read_csv(REF / "data" / "holzinger_swineford.csv")
HS_MODEL = CFA_REF["cases"]["hs"]["model"]
MISS = pd.read_csv(REF / "data" / "sim25_missing.csv")
SERVQUAL5 = sm.get_instrument("servqual25").with_scale(1, 5)


# ----------------------------------------------------------------------------- options
def test_options_are_validated_in_one_place():
    assert SEMOptions(estimator="mlr", missing="FIML").label == "MLR, missing=fiml"
    for bad in ({"estimator": "GLS"}, {"missing": "pairwise"}, {"confidence_level": 95}, {"std_lv": "yes"},
                {"confidence_level": 1.0}, {"likelihood": "student"}):
        with pytest.raises(sm.ParameterError) as err:
            SEMOptions(**bad)
        assert isinstance(err.value, ValueError) and next(iter(bad)) in str(err.value)
    with pytest.raises(sm.ParameterError, match="WLSMV.*fiml.*not implemented"):
        SEMOptions(estimator="WLSMV", missing="fiml")
    with pytest.raises(sm.ParameterError, match="cluster"):
        SEMOptions(cluster=3)
    with pytest.raises(sm.ParameterError, match="cluster.*WLSMV"):
        SEMOptions(estimator="WLSMV", cluster="village")
    with pytest.raises(sm.ParameterError, match="ordered=True needs estimator='WLSMV'"):
        SEMOptions(ordered=True)


def test_keywords_and_options_merge_but_never_contradict():
    assert resolve_options(SEMOptions(estimator="MLR"), std_lv=True) == SEMOptions(estimator="MLR", std_lv=True)
    assert resolve_options({"missing": "fiml"}).missing == "fiml"
    with pytest.raises(sm.ParameterError, match="contradicts"):
        resolve_options(SEMOptions(estimator="MLR"), estimator="ML")
    with pytest.raises(sm.ParameterError, match="unknown option"):
        resolve_options({"estimater": "ML"})


def test_registry_names_every_estimator_and_refuses_combinations():
    assert set(registered()) == {("ML", "listwise"), ("MLR", "listwise"), ("ML", "fiml"), ("MLR", "fiml"),
                                 ("WLSMV", "listwise")}
    assert get_estimator(SEMOptions(estimator="WLSMV"), n_groups=2).multigroup  # ordinal invariance (issue 17)
    with pytest.raises(sm.ParameterError, match="needs raw data"):
        sm.cfa(model=HS_MODEL, sample_cov=HS[[f"x{i}" for i in range(1, 10)]].cov(), n_obs=301, estimator="MLR")


# ----------------------------------------------------------------------------- one fit-measures function
def test_fit_measures_reproduce_lavaan_from_its_own_chi_squares():
    ref = CFA_REF["cases"]["hs"]["fit"]
    t = TestStatistic(ref["chisq"], ref["df"], ref["baseline.chisq"], ref["baseline.df"], n_test=301, n_groups=1)
    ours = fit_measures(t, npar=int(ref["npar"]), srmr=ref["srmr"], n_total=301, loglik=ref["logl"],
                        unrestricted_loglik=ref["unrestricted.logl"])
    for key, name in (("cfi", "cfi"), ("tli", "tli"), ("nfi", "nfi"), ("rmsea", "rmsea"),
                      ("rmsea_pvalue", "rmsea.pvalue"), ("aic", "aic"), ("bic", "bic"), ("sabic", "bic2"), ("pvalue", "pvalue")):
        assert ours[key] == pytest.approx(ref[name], rel=1e-9, abs=1e-12), key
    # the RMSEA interval bounds are roots (lavaan: uniroot with its default tolerance)
    assert ours["rmsea_ci_low"] == pytest.approx(ref["rmsea.ci.lower"], rel=1e-6)
    assert ours["rmsea_ci_high"] == pytest.approx(ref["rmsea.ci.upper"], rel=1e-6)


def test_one_tli_formula_serves_standard_and_robust():
    # c = c_b = 1: the robust form equals the textbook (X2b/dfb - X2/df)/(X2b/dfb - 1)
    from servmodels.sem.fit_measures import tli

    x2, df, xb, dfb = 85.3, 24, 918.9, 36
    assert tli(x2, df, xb, dfb) == pytest.approx((xb / dfb - x2 / df) / (xb / dfb - 1), rel=1e-12)


# ----------------------------------------------------------------------------- listwise as lavaan
def test_listwise_is_the_default_and_matches_lavaan():
    ref = VAL_REF["listwise"]
    model = VAL_REF["model"]
    res = sm.cfa(MISS, model)
    assert res.n_respondents == ref["nobs"] and res.n_dropped == ref["ntotal"] - ref["nobs"]
    complete = MISS[[f"P{i}" for i in range(1, 26)]].notna().all(axis=1).to_numpy()
    assert res.dropped_rows == tuple(int(r) + 1 for r in np.flatnonzero(~complete))
    for key in ("chisq", "cfi", "tli", "rmsea", "aic", "bic"):
        assert res.fit[key] == pytest.approx(ref["fit"][key], rel=1e-6), key
    assert res.fit["srmr"] == pytest.approx(ref["fit"]["srmr"], rel=1e-5)  # at lavaan's estimates (rel.tol 1e-10)
    assert res.fit["loglik"] == pytest.approx(ref["fit"]["logl"], rel=1e-9)
    with pytest.raises(sm.ValidationError, match="nan_policy='omit'"):
        sm.cfa(MISS, model, nan_policy="raise")


def test_survey_data_rows_count_when_read_with_missing_answers():
    data = sm.read_survey(MISS, SERVQUAL5, score_sets=["P"], nan_policy="fiml")
    res = sm.cfa(data)
    assert res.n_respondents == VAL_REF["listwise"]["nobs"]
    assert res.fit["chisq"] == pytest.approx(VAL_REF["listwise"]["fit"]["chisq"], rel=1e-6)
    assert len(res.dropped_rows) == res.n_dropped


def test_fiml_through_options_matches_lavaan():
    ref = VAL_REF["fiml"]["fit"]
    res = sm.cfa(MISS, VAL_REF["model"], options=SEMOptions(missing="fiml"))
    assert res.n_respondents == 500 and res.n_dropped == 0
    for key in ("chisq", "cfi", "tli", "rmsea", "aic", "bic"):
        assert res.fit[key] == pytest.approx(ref[key], rel=1e-6), key
    # SRMR against lavaan's EM moments, which stop at its EM tolerance
    assert res.fit["srmr"] == pytest.approx(ref["srmr"], rel=1e-5)


# ----------------------------------------------------------------------------- options reach every analysis
def test_validity_with_fiml_matches_semtools():
    data = sm.read_survey(MISS, SERVQUAL5, score_sets=["P"], nan_policy="fiml")
    res = sm.validity(data, n_resamples=0, options=SEMOptions(missing="fiml"))
    ref = VAL_REF["fiml"]
    assert res.n_respondents == 500 and res.n_dropped == 0
    for dim in SERVQUAL5.dimension_names:
        assert res.dimensions.loc[dim, "omega"] == pytest.approx(ref["omega"][dim], rel=1e-5)
        assert res.dimensions.loc[dim, "ave"] == pytest.approx(ref["ave"][dim], rel=1e-5)
    np.testing.assert_allclose(res.htmt.to_numpy(), np.array(ref["htmt"]), rtol=1e-6)


def test_validity_listwise_drops_and_counts_like_cfa():
    data = sm.read_survey(MISS, SERVQUAL5, score_sets=["P"], nan_policy="fiml")
    res = sm.validity(data, n_resamples=0)
    ref = VAL_REF["listwise"]
    assert res.n_respondents == ref["nobs"] and res.n_dropped == ref["ntotal"] - ref["nobs"]
    for dim in SERVQUAL5.dimension_names:
        assert res.dimensions.loc[dim, "omega"] == pytest.approx(ref["omega"][dim], rel=1e-5)
    np.testing.assert_allclose(res.htmt.to_numpy(), np.array(ref["htmt"]), rtol=1e-9)


def test_validity_refuses_wlsmv_with_a_pointer():
    with pytest.raises(sm.ParameterError, match="ordinal_reliability"):
        sm.validity(sm.read_survey(sm.load_example()), n_resamples=0, options=SEMOptions(estimator="WLSMV"))


def test_mlr_reaches_every_invariance_step_and_the_comparison():
    inv = sm.measurement_invariance(HS, HS_MODEL, group="school", options=SEMOptions(estimator="MLR"))
    for level, fit in inv.fits.items():
        assert fit.options.estimator == "MLR"
        direct = sm.cfa(HS, HS_MODEL, group="school", estimator="MLR", meanstructure=True,
                        group_equal=sm.sem.INVARIANCE_LEVELS[level])
        row = inv.table.set_index("model").loc[level]
        for key in ("chisq_scaled", "scaling_factor", "cfi_robust", "rmsea_robust", "srmr"):
            assert row[key] == pytest.approx(direct.fit[key], rel=1e-10)
    assert inv.table["diff_method"].iloc[1].startswith("Satorra-Bentler")
    data = sm.read_survey(sm.load_example(), outcome="satisfaction")
    cmp = sm.compare_servqual_servperf(data, n_resamples=0, n_repeats=1, options=SEMOptions(estimator="MLR"))
    assert {"chisq_scaled", "cfi_robust"} <= set(cmp.cfa_fit.columns)
    assert (cmp.cfa_fit["estimator"] == "MLR").all()


def test_confidence_level_sets_the_wald_interval():
    r90 = sm.cfa(HS, HS_MODEL, confidence_level=0.90).parameters
    free = r90[r90["free"]]
    half = (free["ci_high"] - free["ci_low"]) / 2
    np.testing.assert_allclose(half, 1.6448536269514722 * free["se"], rtol=1e-12)  # qnorm(0.95)


def test_strict_turns_an_untrustworthy_fit_into_convergence_error():
    # a two-indicator factor uncorrelated with the rest is not identified: singular information
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5\nvisual ~~ 0*textual"
    with pytest.raises(sm.ConvergenceError) as err:
        sm.cfa(HS, model, strict=True)
    assert isinstance(err.value, RuntimeError)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sm.cfa(HS, model)
    assert any(issubclass(w.category, sm.NonConvergenceWarning) for w in caught)
    assert any("singular" in w for w in res.warnings)


def test_cfa_results_share_the_result_surface():
    res = sm.cfa(HS, HS_MODEL)
    inv = sm.measurement_invariance(HS, HS_MODEL, group="school", levels=("configural", "metric"))
    for r in (res, inv):
        assert isinstance(r, sm.Result)
        assert isinstance(r.to_frame(), pd.DataFrame) and r.summary()
        json.dumps(r.to_dict(), allow_nan=False)
        assert r.n_respondents == 301 and r.n_dropped == 0 and isinstance(r.warnings, tuple)
    assert list(res.to_frame().columns[6:12]) == ["estimate", "se", "z", "p_value", "ci_low", "ci_high"]


def test_diagnostics_refuse_clearly_where_not_implemented():
    # clustered fits (cluster=): lavaan's modification indices there are not checked yet
    df = pd.read_csv(REF / "data" / "sim25_cluster.csv")
    res = sm.cfa(df, "f =~ P1 + P2 + P3 + P4 + P5", estimator="MLR", cluster="village")
    with pytest.raises(sm.ParameterError, match="modification indices are not implemented for MLR.*cluster"):
        res.modification_indices  # noqa: B018
    with pytest.raises(sm.ParameterError, match="residuals are not implemented"):
        res.residuals  # noqa: B018


def test_singular_data_name_the_cause():
    df = HS.copy()
    df["x3"] = df["x2"]
    with pytest.raises(sm.NumericalError, match="x2 and x3"):
        sm.cfa(df, HS_MODEL)
    df["x3"] = 5.0
    with pytest.raises(sm.NumericalError, match="constant item.*x3"):
        sm.cfa(df, HS_MODEL)
    small = HS.head(8)
    with pytest.raises(sm.NumericalError, match="8 respondents for 9 variables"):
        sm.cfa(small, HS_MODEL)


# ----------------------------------------------------------------------------- CLI
def test_cli_cfa_drops_incomplete_rows_like_lavaan_and_says_so(tmp_path, capsys):
    from servmodels.cli import main

    model = tmp_path / "model.txt"
    model.write_text(VAL_REF["model"])
    data = str(REF / "data" / "sim25_missing.csv")
    assert main(["cfa", data, "--model-file", str(model), "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    ref = VAL_REF["listwise"]
    assert doc["n_respondents"] == ref["nobs"] and doc["n_dropped"] == ref["ntotal"] - ref["nobs"]
    assert doc["fit"]["chisq"] == pytest.approx(ref["fit"]["chisq"], rel=1e-6)
    assert {"est", "se", "pvalue", "std_all"} <= set(doc["parameters"][0])  # lavaan's names in the CLI JSON
    assert err.count("\n") == 1 and "dropped (listwise)" in err and "--missing fiml" in err
    # the instrument model reads the same file the same way
    assert main(["cfa", data, "--scale", "1", "5", "--scores", "P", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fit"]["chisq"] == pytest.approx(ref["fit"]["chisq"], rel=1e-6)
    # an explicit refusal speaks the CLI's language
    assert main(["cfa", data, "--scale", "1", "5", "--scores", "P", "--nan-policy", "raise"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--nan-policy omit" in err and "nan_policy=" not in err
    assert main(["cfa", data, "--model-file", str(model), "--missing", "fiml", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_dropped"] == 0 and doc["fit"]["chisq"] == pytest.approx(VAL_REF["fiml"]["fit"]["chisq"], rel=1e-6)


def test_cli_invariance_carries_the_estimator(tmp_path, capsys):
    from servmodels.cli import main

    model = tmp_path / "hs.txt"
    model.write_text(HS_MODEL)
    hs = str(REF / "data" / "holzinger_swineford.csv")
    assert main(["cfa", hs, "--model-file", str(model), "--group", "school", "--invariance", "--estimator", "MLR",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["invariance"]
    assert [r["model"] for r in rows] == ["configural", "metric", "scalar", "strict"]
    keys = {"model", "chisq", "df", "chisq_scaled", "df_scaled", "scaling_factor", "cfi_robust", "tli_robust",
            "rmsea_robust", "srmr"}
    assert all(keys <= set(r) for r in rows)
    direct = sm.cfa(HS, HS_MODEL, group="school", group_equal=("loadings",), estimator="MLR")
    assert rows[1]["chisq_scaled"] == pytest.approx(direct.fit["chisq_scaled"], rel=1e-10)
    # WLSMV treats every distinct value as a category: continuous scores leave categories empty in a school,
    # which equal thresholds cannot have (one line, exit 2; ordinal invariance itself: test_ordinal_invariance.py)
    assert main(["cfa", hs, "--model-file", str(model), "--group", "school", "--invariance", "--estimator", "WLSMV"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "categories nobody chose" in err and "x1" in err


def test_every_error_class_is_also_the_matching_builtin():
    import inspect

    import servmodels._exceptions as ex

    builtin = {"ParameterError": ValueError, "ValidationError": ValueError, "InstrumentError": ValueError,
               "ModelSpecificationError": ValueError, "NumericalError": ArithmeticError, "ConvergenceError": RuntimeError,
               "DataFileError": OSError, "DataFileNotFoundError": FileNotFoundError}
    subclasses = {n for n, c in inspect.getmembers(ex, inspect.isclass)
                  if issubclass(c, ex.ServmodelsError) and c is not ex.ServmodelsError}
    assert subclasses == set(builtin)
    for name, base in builtin.items():
        assert issubclass(getattr(ex, name), base), name
    with pytest.raises(FileNotFoundError):
        sm.read_survey("/no/such/survey.csv")


def test_report_fits_with_the_options_it_is_given():
    from servmodels.analysis import analyze

    data = sm.read_survey(sm.load_example(), outcome="satisfaction")
    a = analyze(data, n_resamples=50, options=SEMOptions(estimator="MLR"), analyses=["cfa", "reliability"])
    cfa_table = next(t.frame for t in a.tables() if t.key == "cfa_fit")
    direct = sm.cfa(data, estimator="MLR").fit
    assert cfa_table.iloc[0]["estimator"] == "MLR" and a.provenance["estimator"] == "MLR"
    assert float(cfa_table["chisq_scaled"].iloc[0]) == pytest.approx(direct["chisq_scaled"], rel=1e-12)


def _improper_survey():
    # few respondents, P1-P4 random and P2 = P1 except three rows: the tangibles factor is improper
    # (without checks, omega = 2.29, CR = 2.04, AVE = 2.62 were reported silently)
    rng = np.random.default_rng(0)
    n = int(rng.integers(27, 45))
    df = sm.simulate_servqual(n, rng=0)
    for c in ("P1", "P2", "P3", "P4"):
        df[c] = rng.integers(1, 5, size=n)
    df["P2"] = df["P1"]
    df.loc[df.index[:3], "P2"] = rng.integers(1, 5, 3)
    return sm.read_survey(df, check_keys=False)  # random items: the key check's verdict is not the point here


def test_validity_reports_an_untrustworthy_cfa_and_strict_refuses_it():
    data = _improper_survey()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sm.validity(data, n_resamples=0)
    kinds = {w.category for w in caught}
    assert sm.NonConvergenceWarning in kinds and sm.HeywoodCaseWarning in kinds
    assert any("did not converge" in w for w in res.warnings) and any("Heywood" in w for w in res.warnings)
    with pytest.raises(sm.ConvergenceError, match="omega"):
        sm.validity(data, n_resamples=0, options=SEMOptions(strict=True))
    with pytest.raises(sm.ConvergenceError):
        sm.cfa(data, strict=True)  # the same model, the same verdict
