"""The latent gap model (issue 17 part 1) against lavaan.

References: ``tests/reference/R/lavaan_latent_gap.R`` (lavaan 0.6-14, nlminb at rel.tol 1e-13 polished by
BFGS) writes ``tests/reference/lavaan_latent_gap.json`` and the simulated ``data/latent_gap_sim.csv``
(n = 600, 1-5 scale, item 3's P intercept 0.6 below its E intercept, cross-loadings and residual
covariances the model leaves out so that no fit index sits at a bound).  lavaan fits the same models
from syntax written out in R.

Tolerances (relative unless said): chi-square, CFI, TLI, RMSEA and the chi-square differences 1e-6
(optimiser output; observed agreement ~1e-12); SRMR 1e-4; latent gaps (P factor means), their
intervals and std.lv 1e-4 (observed ~4e-7, BFGS's stopping rule), their SEs 1e-3 (issue 17; observed
~1e-7); p-values 1e-6 absolute; univariate and total score tests (lavTestScore) 1e-4 (observed ~3e-6);
the observed gaps' t-intervals (R ``t.test``, closed form) 1e-9.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main
from servmodels.sem import cfa, latent_gap, latent_gap_model, score_tests
from servmodels.sem.specification import build_spec

REF = Path(__file__).parent / "reference"
LAV = json.loads((REF / "lavaan_latent_gap.json").read_text())
CASES = LAV["cases"]
FILES = {"example": (REF / "data" / "example.csv", (1, 4)), "sim": (REF / "data" / "latent_gap_sim.csv", (1, 5))}
KW = {"example": ("example", {}), "example_std_lv": ("example", {"std_lv": True}), "sim": ("sim", {}),
      "sim_partial3": ("sim", {"free_intercepts": ["3"]}), "sim_mlr": ("sim", {"estimator": "MLR"})}
SLOW = {"example_std_lv", "sim_mlr"}


def _fit(case: str) -> sm.LatentGapResult:
    name, kw = KW[case]
    path, scale = FILES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example's strict model has a non-positive-definite Psi (checked below)
        return latent_gap(path, scale=scale, n_resamples=0, **kw)


_CACHE: dict[str, sm.LatentGapResult] = {}


def fitted(case: str) -> sm.LatentGapResult:
    if case not in _CACHE:
        _CACHE[case] = _fit(case)
    return _CACHE[case]


def _cases() -> list:
    return [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in CASES]


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def _model_name(case: str, model: str) -> str:
    """lavaan's scalar/strict rows of a partial case are servmodels' partial_scalar/partial_strict."""
    return f"partial_{model}" if KW[case][1].get("free_intercepts") and model in ("scalar", "strict") else model


@pytest.mark.parametrize("case", _cases())
def test_invariance_rows_equal_lavaan(case):
    res, ref = fitted(case), CASES[case]
    inv = res.invariance.set_index("model")
    for row in ref["invariance"]:
        ours = inv.loc[_model_name(case, row["model"])]
        assert ours["df"] == row["df"]
        assert res.fits[_model_name(case, row["model"])].fit["npar"] == row["npar"]
        for key in ("chisq", "cfi", "tli", "rmsea"):
            assert _rel(ours[key], row[key]) < 1e-6, (row["model"], key)
        assert _rel(ours["srmr"], row["srmr"]) < 1e-4
        assert ours["chisq"] <= row["chisq"] * (1 + 1e-9)  # never above lavaan's minimum
        assert abs(ours["pvalue"] - row["pvalue"]) < 1e-6
        for key in ("chisq.scaled", "cfi.robust", "rmsea.robust"):
            if key in row:
                assert _rel(ours[key.replace(".", "_")], row[key]) < 1e-6, (row["model"], key)
    for d in ref["differences"]:
        ours = inv.loc[_model_name(case, d["model"])]
        assert ours["df_diff"] == d["df_diff"]
        assert _rel(ours["chisq_diff"], d["chisq_diff"]) < 1e-6
        assert abs(ours["p_diff"] - d["p_diff"]) < 1e-6


@pytest.mark.parametrize("case", _cases())
def test_latent_gaps_equal_lavaan_p_factor_means(case):
    res, ref = fitted(case), CASES[case]
    lg = res.latent_gaps.set_index("dimension")
    assert list(lg.index) == [r["dimension"] for r in ref["latent_gaps"]]
    for row in ref["latent_gaps"]:
        ours = lg.loc[row["dimension"]]
        for key in ("estimate", "ci_low", "ci_high", "std_lv", "z"):
            assert _rel(ours[key], row[key]) < 1e-4, (row["dimension"], key)
        assert _rel(ours["se"], row["se"]) < 1e-3
        assert abs(ours["p_value"] - row["p_value"]) < 1e-6


@pytest.mark.parametrize("case", ["example", "sim"])
def test_every_scalar_parameter_equals_lavaan(case):
    """The whole parameter table of the scalar model (names as lavaan's: intercepts with rhs '')."""
    res, ref = fitted(case), CASES[case]
    ours = res.fits["scalar"].parameters.set_index(["lhs", "op", "rhs"])
    lav = pd.DataFrame(ref["scalar_parameters"]).fillna({"rhs": ""}).set_index(["lhs", "op", "rhs"])
    assert set(ours.index) == set(lav.index)
    est, lest = ours.loc[lav.index, "estimate"].to_numpy(), lav["est"].to_numpy()
    np.testing.assert_allclose(est, lest, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.loc[lav.index, "se"].to_numpy(), lav["se"].to_numpy(), rtol=1e-3, atol=1e-8)


# example_std_lv is left out: the observed gaps do not depend on the identification (and that fit is slow)
@pytest.mark.parametrize("case", ["example", "sim", "sim_partial3"])
def test_observed_gaps_equal_t_test(case):
    res, ref = fitted(case), CASES[case]
    assert res.observed_method == "t" and res.n_resamples == 0
    og = res.observed_gaps.set_index("dimension")
    for row in ref["observed_gaps"]:
        for key in ("estimate", "se", "ci_low", "ci_high", "p_value"):
            assert og.loc[row["dimension"], key] == pytest.approx(row[key], rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("case", ["example", "sim", "sim_partial3"])
def test_score_tests_equal_lavTestScore(case):
    res, ref = fitted(case), CASES[case]["score_tests"]
    st = res.score_tests[res.score_tests["model"] == res.gap_model].copy()
    st["key"] = [(p, k) for p, k in zip(st["perception"], st["parameter"])]
    st = st.set_index("key")
    assert len(st) == len(ref["univariate"])
    for u in ref["univariate"]:
        intercept = u["op"] == "~1"
        col = u["lhs"] if intercept else u["rhs"]
        ours = st.loc[[(col, "intercept" if intercept else "loading")]].iloc[0]
        assert ours["expectation"] == (u["first"].split()[0] if intercept else u["first"].split()[-1])
        assert _rel(ours["chisq"], u["chisq"]) < 1e-4, col
        assert abs(ours["p_value"] - u["p_value"]) < 1e-6
    total = res.score_test_total[res.gap_model]
    assert _rel(total["chisq"], ref["total"]["chisq"]) < 1e-4
    assert total["df"] == ref["total"]["df"]


def test_scalar_failure_is_found_and_partial_invariance_repairs_it():
    full, partial = fitted("sim"), fitted("sim_partial3")
    assert not full.scalar_supported
    assert full.flagged_intercepts[0] == "3"  # the simulated non-invariant item, largest statistic
    assert partial.free_intercepts == ("3",) and partial.gap_model == "partial_scalar"
    inv = partial.invariance.set_index("model")
    assert list(inv.index) == ["configural", "metric", "scalar", "strict", "partial_scalar", "partial_strict"]
    assert inv.loc["partial_scalar", "compared_with"] == "metric" and bool(inv.loc["partial_scalar", "partial"])
    assert inv.loc["partial_scalar", "df"] == inv.loc["scalar", "df"] - 1
    # item 3's P intercept is lower than its E intercept: held equal, it drags the tangibles P mean down;
    # released, the tangibles gap rises and the other dimensions' gaps stay
    lg_full = full.latent_gaps.set_index("dimension")["estimate"]
    lg_part = partial.latent_gaps.set_index("dimension")["estimate"]
    assert lg_part["tangibles"] > lg_full["tangibles"] + 0.03
    np.testing.assert_allclose(lg_part.drop("tangibles"), lg_full.drop("tangibles"), atol=1e-3)


def test_score_tests_of_group_equal_constraints_equal_lavTestScore():
    """The score tests are general: scalar invariance across HS's two schools (group.equal)."""
    ref = LAV["hs_scalar_score_tests"]
    hs = pd.read_csv(REF / "data" / "holzinger_swineford.csv")
    res = cfa(hs, ref["model"], group="school", group_equal=("loadings", "intercepts"))
    assert _rel(res.fit["chisq"], ref["chisq"]) < 1e-6
    st = score_tests(res)
    u = st.univariate
    assert len(u) == len(ref["univariate"])
    for row in ref["univariate"]:
        hit = u[(u["lhs"] == row["lhs"]) & (u["op"] == row["op"]) & (u["rhs"] == row["rhs"]) & (u["group"] == row["group"])]
        assert len(hit) == 1 and hit["equal_to"].iloc[0] == f"{row['first']} (group {row['first_group']})"
        assert _rel(hit["chisq"].iloc[0], row["chisq"]) < 1e-4
    assert _rel(st.total["chisq"], ref["total"]["chisq"]) < 1e-4 and st.total["df"] == ref["total"]["df"]


# ----------------------------------------------------------------------------- interface
def test_cli_gap_model_json(capsys):
    path, _ = FILES["sim"]
    assert main(["gap-model", str(path), "--scale", "1", "5", "--json", "--n-resamples", "0"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ref = CASES["sim"]
    assert [r["model"] for r in doc["invariance"]] == ["configural", "metric", "scalar", "strict"]
    for ours, lav in zip(doc["invariance"], ref["invariance"]):
        assert ours["df"] == lav["df"]
        for key in ("chisq", "cfi", "rmsea"):
            assert _rel(ours[key], lav[key]) < 1e-6
    for ours, lav in zip(doc["latent_gaps"], ref["latent_gaps"]):
        assert ours["dimension"] == lav["dimension"]
        assert _rel(ours["estimate"], lav["estimate"]) < 1e-4 and _rel(ours["se"], lav["se"]) < 1e-3
        assert _rel(ours["ci_low"], lav["ci_low"]) < 1e-4 and _rel(ours["ci_high"], lav["ci_high"]) < 1e-4
        assert abs(ours["p_value"] - lav["p_value"]) < 1e-6
    assert [g["dimension"] for g in doc["observed_gaps"]] == [g["dimension"] for g in ref["observed_gaps"]]
    assert doc["observed_method"] == "t" and doc["flagged_intercepts"][0] == "3" and doc["scalar_supported"] is False


def test_observed_gaps_use_the_gap_bootstrap_with_the_same_seed():
    data = sm.read_survey(sm.load_example())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = latent_gap(data, n_resamples=200, rng=5)
    boot = sm.gap_bootstrap(data, n_resamples=200, rng=5, method="bca")
    db = boot.table[boot.table["level"] == "dimension"]
    assert res.observed_method == "bca" and res.n_resamples == 200
    for col in ("estimate", "se", "ci_low", "ci_high", "p_value"):
        np.testing.assert_array_equal(res.observed_gaps[col].to_numpy(), db[col].to_numpy())
    assert res.latent_gaps["estimate"].tolist() == fitted("example").latent_gaps["estimate"].tolist()
    frame = res.to_frame()
    assert list(frame.columns) == ["dimension", "estimate", "se", "ci_low", "ci_high", "p_value", "observed",
                                   "observed_ci_low", "observed_ci_high", "observed_p_value"]
    assert "Latent gaps" in res.summary() and "BCa bootstrap" in res.summary()
    json.dumps(res.to_dict(), allow_nan=False)


def test_free_intercepts_accepts_ids_and_columns():
    inst = sm.get_instrument("servqual25")
    a = latent_gap_model(inst, "scalar", free_intercepts=["3"])
    assert a == latent_gap_model(inst, "scalar", free_intercepts="E3,P3") == latent_gap_model(inst, "scalar", free_intercepts=["P3"])
    assert "E3 ~ 1" in a.splitlines() and "P3 ~ 1" in a.splitlines() and "E4 ~ i4*1" in a.splitlines()
    assert latent_gap_model(inst, "configural") == latent_gap_model(inst, "configural", free_intercepts=["3"])


def test_std_lv_identification_borrows_the_scale_through_equal_loadings():
    inst = sm.get_instrument("servqual25")
    text = latent_gap_model(inst, "metric", std_lv=True)
    assert "P_tangibles ~~ NA*P_tangibles" in text and "E_tangibles =~ l1*E1" in text
    spec = build_spec(text, std_lv=True, meanstructure=True)
    free_var = {r.lhs for r in spec.rows if r.mat == "P" and r.r == r.c and r.free}
    assert free_var == {f"P_{d}" for d in inst.dimensions}
    # without the shared labels a factor with free loadings and a free variance has no scale
    with pytest.raises(sm.ModelSpecificationError, match="no scale"):
        build_spec("f =~ NA*x1 + x2 + x3\nf ~~ NA*f", std_lv=True)


def test_listwise_deletion_is_counted():
    df = pd.read_csv(FILES["sim"][0])
    df.loc[[4, 9], "P7"] = np.nan
    df.loc[20, "E1"] = np.nan
    data = sm.read_survey(df, scale=(1, 5), nan_policy="fiml")
    res = latent_gap(data, n_resamples=0)
    assert (res.n_respondents, res.n_dropped, res.dropped_rows) == (597, 3, (5, 10, 21))
    complete = latent_gap(df.dropna(), scale=(1, 5), n_resamples=0)
    assert res.invariance["chisq"].tolist() == pytest.approx(complete.invariance["chisq"].tolist(), rel=1e-10)


def test_bad_input():
    path, _ = FILES["sim"]
    with pytest.raises(sm.ParameterError, match="unknown item"):
        latent_gap(path, scale=(1, 5), free_intercepts=["E99"], n_resamples=0)
    with pytest.raises(sm.ModelSpecificationError, match="tangibles"):
        latent_gap(path, scale=(1, 5), free_intercepts=["1", "2", "3", "4", "5"], n_resamples=0)
    with pytest.raises(sm.ParameterError, match="WLSMV"):
        latent_gap(path, scale=(1, 5), estimator="WLSMV")
    with pytest.raises(sm.ParameterError, match="fiml"):
        latent_gap(path, scale=(1, 5), options={"missing": "fiml"})
    with pytest.raises(sm.ParameterError, match="step"):
        latent_gap_model(sm.get_instrument("servqual25"), "partial")
    only_p = sm.read_survey(sm.example_path(), score_sets=["P"])
    with pytest.raises(sm.ValidationError, match="expectation"):
        latent_gap(only_p)


def test_cli_errors_are_one_line(capsys):
    path, _ = FILES["sim"]
    assert main(["gap-model", str(path), "--scale", "1", "5", "--free-intercepts", "E99"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("servmodels: error: --free-intercepts: unknown item(s) 'E99'")
    assert main(["gap-model", str(path), "--scale", "1", "5", "--missing", "fiml"]) == 2
    assert "--missing fiml" in capsys.readouterr().err


def test_score_tests_need_constraints():
    df = pd.read_csv(FILES["sim"][0])
    with pytest.raises(sm.ModelSpecificationError, match="no equality constraints"):
        score_tests(cfa(df, "f =~ P1 + P2 + P3 + P4"))


def test_cfa_start_from_a_previous_fit_reaches_the_same_optimum():
    df = pd.read_csv(FILES["sim"][0])
    inst = sm.get_instrument("servqual25").with_scale(1, 5)
    metric = cfa(df, latent_gap_model(inst, "metric"), meanstructure=True)
    cold = cfa(df, latent_gap_model(inst, "scalar"), meanstructure=True)
    warm = cfa(df, latent_gap_model(inst, "scalar"), meanstructure=True, start=metric)
    assert warm.iterations < cold.iterations
    assert warm.fit["chisq"] == pytest.approx(cold.fit["chisq"], rel=1e-12)
    np.testing.assert_allclose(warm.parameters["estimate"], cold.parameters["estimate"], rtol=1e-7, atol=1e-9)
    with pytest.raises(sm.ParameterError, match="start"):
        cfa(df, "f =~ P1 + P2 + P3", start="previous")


def test_exact_hessian_with_mean_structure():
    """The Newton steps' Hessian equals the derivative of the analytic gradient (away from the optimum,
    where the mean residuals of a scalar model are not zero)."""
    from servmodels.sem.ml import evaluate, observed_hessian, sample_moments
    from servmodels.sem.specification import Matrices
    from servmodels.sem.start import start_values

    df = pd.read_csv(FILES["sim"][0])
    text = ("E_t =~ E1 + l2*E2 + l3*E3 + l4*E4\nP_t =~ P1 + l2*P2 + l3*P3 + l4*P4\nE1 ~~ P1\nE2 ~~ P2\n"
            "E1 ~ i1*1\nP1 ~ i1*1\nE2 ~ i2*1\nP2 ~ i2*1\nE_t ~ 0*1\nP_t ~ NA*1")
    spec = build_spec(text, meanstructure=True)
    mom = [sample_moments(df[spec.ov].to_numpy(float), "normal", spec.ov)]
    groups = [Matrices(spec, 0)]
    x = start_values(spec, mom) * 1.05
    H = observed_hessian(spec, groups, mom, evaluate(spec, groups, mom, x))
    h, Hn = 1e-6, np.zeros_like(H)
    for k in range(len(x)):
        e = np.zeros_like(x)
        e[k] = h
        Hn[:, k] = (evaluate(spec, groups, mom, x + e, info=False).grad
                    - evaluate(spec, groups, mom, x - e, info=False).grad) / (2 * h)
    np.testing.assert_allclose(H, Hn, atol=1e-7 * np.abs(Hn).max())


def test_example_warnings_are_recorded_once_with_their_step():
    res = fitted("example")
    assert res.warnings and all(w.split(":")[0] in res.fits for w in res.warnings)


# ----------------------------------------------------------------------------- report
def test_report_shows_latent_beside_observed_gaps(tmp_path):
    from servmodels.render import write_report
    from servmodels.render.catalogue import label

    data = sm.read_survey(sm.example_path())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = sm.analyze(data, n_resamples=50, seed=4, analyses=["scores", "bootstrap", "latent_gap"])
    lg = a["latent_gap"]
    # the observed intervals are the bootstrap step's (same seed, resamples and method)
    db = a["bootstrap"].table.query("level == 'dimension'")
    np.testing.assert_array_equal(lg.observed_gaps["ci_low"].to_numpy(), db["ci_low"].to_numpy())
    tables = {t.key: t for t in a.tables()}
    gaps = tables["latent_gap"].frame
    np.testing.assert_array_equal(gaps["latent_gap"].to_numpy(), lg.latent_gaps["estimate"].to_numpy())
    np.testing.assert_array_equal(gaps["observed_gap"].to_numpy(), lg.observed_gaps["estimate"].to_numpy())
    assert tables["latent_invariance"].frame["model"].tolist() == ["configural", "metric", "scalar", "strict"]
    paths = write_report(a, tmp_path, ["md", "html", "docx", "tex"], ["en", "id"])
    md_en = (tmp_path / "report.md").read_text(encoding="utf-8")
    md_id = (tmp_path / "report_id.md").read_text(encoding="utf-8")
    assert label("latent_gap", "en") in md_en and label("latent_invariance", "en") in md_en
    assert label("latent_gap", "id") in md_id and "konfigural" in md_id and "−0,302" in md_id
    assert "−0.302" in md_en and "BCa bootstrap (50 resamples)" in md_en
    assert {p.suffix for p in paths} == {".md", ".html", ".docx", ".tex", ".json"}
    only_p = sm.read_survey(sm.example_path(), score_sets=["P"])
    b = sm.analyze(only_p, analyses=["scores", "latent_gap"])
    assert b.skipped == {"latent_gap": "needs expectation (E) and perception (P) answers"}


def test_factor_names_are_valid_lavaan_names():
    inst = sm.get_instrument("servqual25")
    dims = {("customer care" if k == "empathy" else k): v for k, v in inst.dimensions.items()}
    text = latent_gap_model(sm.Instrument(name="x", dimensions=dims, scale=(1, 4)), "scalar")
    assert "P_customer_care =~ P21 + l22*P22 + l23*P23 + l24*P24 + l25*P25" in text.splitlines()
    assert "P_customer_care ~ NA*1" in text.splitlines()
    build_spec(text, meanstructure=True)  # parses
