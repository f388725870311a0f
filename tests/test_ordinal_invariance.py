"""Ordinal multi-group CFA and invariance (WLSMV, delta parameterization) against lavaan 0.6-14.

References: tests/reference/R/lavaan_ordinal_mg.R -> tests/reference/lavaan_ordinal_mg.json, on
(a) Holzinger & Swineford's nine tests cut into three categories, two schools (public data);
(b) a simulated three-group file (8 four-category items, a cross-loading left out of the model so the
    models misfit, one item's thresholds shifted in one group);
(c) the bundled example's E and P items jointly (the E-versus-P question for ordinal items).

lavaan's nlminb cannot reach a relative tolerance tighter than 1e-10 on (a) and (b) (it stops with "a
solution has NOT been found"), so estimates are compared at 1e-4 relative (2e-5 absolute for estimates near
zero) and standard errors at 1e-4; the test statistics, flat at the optimum, agree to about 1e-8 and are
compared at 1e-6, SRMR at 1e-5.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.sem import cfa
from servmodels.sem.invariance import ep_structure_test
from servmodels.sem.wlsmv import satorra2000_difference

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "lavaan_ordinal_mg.json").read_text())
DATA = {"hs": REF_DIR / "data" / "hs_ordinal.csv", "sim": REF_DIR / "data" / "ordinal_mg.csv"}
STEPS = {"configural": (), "metric": ("thresholds", "loadings"), "scalar": ("thresholds", "loadings", "intercepts")}
FIT_KEYS = {  # ours -> lavaan's
    "chisq": "chisq", "df": "df", "npar": "npar", "chisq_scaled": "chisq.scaled",
    "scaling_factor": "chisq.scaling.factor", "baseline_chisq": "baseline.chisq",
    "baseline_chisq_scaled": "baseline.chisq.scaled", "cfi": "cfi", "tli": "tli", "cfi_scaled": "cfi.scaled",
    "tli_scaled": "tli.scaled", "rmsea": "rmsea", "rmsea_scaled": "rmsea.scaled",
}


@pytest.fixture(scope="module")
def fits():
    out = {}
    for case, path in DATA.items():
        df = pd.read_csv(path)
        r = REF[case]
        for step, ge in STEPS.items():
            out[(case, step)] = cfa(df, r["model"], estimator="WLSMV", group=r["group"], group_equal=ge)
    return out


@pytest.mark.parametrize("case", sorted(DATA))
@pytest.mark.parametrize("step", list(STEPS))
def test_fit_measures_equal_lavaan(fits, case, step):
    res = fits[(case, step)]
    ref = REF[case]["steps"][step]["fit"]
    assert res.converged and res.groups == REF[case]["groups"]
    assert res.n_respondents == sum(REF[case]["n"]) and res.n_dropped == 0
    for ours, theirs in FIT_KEYS.items():
        assert res.fit[ours] == pytest.approx(ref[theirs], rel=1e-6), ours
    assert res.fit["srmr"] == pytest.approx(ref["srmr"], rel=1e-5)
    # p-values far in the tail magnify the statistics' 1e-8 differences
    assert res.fit["pvalue_scaled"] == pytest.approx(ref["pvalue.scaled"], rel=1e-5, abs=1e-14)
    # the shift of the scaled-and-shifted statistic, chisq_scaled = chisq / c + shift, as lavaan's numbers imply
    shift = res.fit["chisq_scaled"] - res.fit["chisq"] / res.fit["scaling_factor"]
    assert shift == pytest.approx(ref["chisq.scaled"] - ref["chisq"] / ref["chisq.scaling.factor"], rel=1e-5)


@pytest.mark.parametrize("case", sorted(DATA))
@pytest.mark.parametrize("step", list(STEPS))
def test_estimates_and_standard_errors_equal_lavaan(fits, case, step):
    """Every free parameter lavaan reports, thresholds and scale factors of groups 2.. included."""
    ours = fits[(case, step)].parameters
    ref = pd.DataFrame(REF[case]["steps"][step]["parameters"])
    ref["group"] = [REF[case]["groups"][g - 1] for g in ref["group"]]
    ref["rhs"] = ref["rhs"].fillna("")
    merged = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="left", suffixes=("_lavaan", ""))
    assert merged["estimate"].notna().all(), merged[merged["estimate"].isna()][["lhs", "op", "rhs", "group"]]
    assert {"|", "=~", "~~"} <= set(merged["op"])
    if step != "configural":  # equal thresholds free the scale factors and factor means of groups 2..
        assert {"~*~", "~1"} <= set(merged["op"])
    np.testing.assert_allclose(merged["estimate"], merged["est"], rtol=1e-4, atol=2e-5)
    np.testing.assert_allclose(merged["se"], merged["se_lavaan"], rtol=1e-4)
    # and nothing estimated in ours that lavaan fixes (each free row of ours is one of lavaan's)
    free = ours[ours["free"] & (ours["se"] > 0)]
    assert len(free.merge(ref, on=["lhs", "op", "rhs", "group"])) == len(free)


@pytest.mark.parametrize("case", sorted(DATA))
def test_scaled_shifted_difference_equals_lavtestlrt(fits, case):
    d = satorra2000_difference(fits[(case, "metric")].extra["ordinal"], fits[(case, "configural")].extra["ordinal"])
    ref = REF[case]["diff_metric"]
    assert d["df_diff"] == ref["df_diff"]
    assert d["chisq_diff"] == pytest.approx(ref["chisq_diff"], rel=1e-6)
    assert d["p_value"] == pytest.approx(ref["p"], rel=1e-5)
    # scalar equals metric for ordinal items (intercepts fixed at 0): no test
    same = satorra2000_difference(fits[(case, "scalar")].extra["ordinal"], fits[(case, "metric")].extra["ordinal"])
    assert same["df_diff"] == 0 and np.isnan(same["p_value"]) and same["chisq_diff"] == pytest.approx(0, abs=1e-8)


def test_measurement_invariance_runs_lavaans_ordinal_steps():
    df = pd.read_csv(DATA["sim"])
    inv = sm.measurement_invariance(df, REF["sim"]["model"], group="g", estimator="WLSMV")
    t = inv.table.set_index("model")
    assert list(t.index) == ["configural", "metric", "scalar"]
    for step in STEPS:
        assert t.loc[step, "chisq_scaled"] == pytest.approx(REF["sim"]["steps"][step]["fit"]["chisq.scaled"], rel=1e-6)
    assert t.loc["metric", "chisq_diff"] == pytest.approx(REF["sim"]["diff_metric"]["chisq_diff"], rel=1e-6)
    assert t.loc["metric", "diff_method"].startswith("Satorra (2000)")
    assert t.loc["metric", "delta_cfi_scaled"] == pytest.approx(
        REF["sim"]["steps"]["metric"]["fit"]["cfi.scaled"] - REF["sim"]["steps"]["configural"]["fit"]["cfi.scaled"],
        rel=1e-5)
    assert t.loc["scalar", "df_diff"] == 0 and np.isnan(t.loc["scalar", "p_diff"])
    with pytest.raises(sm.ParameterError, match="no strict step"):
        sm.measurement_invariance(df, REF["sim"]["model"], group="g", estimator="WLSMV", levels=("strict",))


def test_cli_invariance_json_equals_lavaan(tmp_path):
    from servmodels.cli import main

    model = tmp_path / "hs.lav"
    model.write_text(REF["hs"]["model"] + "\n")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["cfa", str(DATA["hs"]), "--model-file", str(model), "--estimator", "WLSMV", "--group", "school",
                     "--invariance", "--json"])
    assert code == 0
    rows = {r["model"]: r for r in json.loads(out.getvalue())["invariance"]}
    assert list(rows) == ["configural", "metric", "scalar"]
    for step, row in rows.items():
        ref = REF["hs"]["steps"][step]["fit"]
        for ours, theirs in (("chisq_scaled", "chisq.scaled"), ("df", "df"), ("cfi_scaled", "cfi.scaled"),
                             ("rmsea_scaled", "rmsea.scaled")):
            assert row[ours] == pytest.approx(ref[theirs], rel=1e-6), (step, ours)
    assert rows["metric"]["chisq_diff"] == pytest.approx(REF["hs"]["diff_metric"]["chisq_diff"], rel=1e-6)


def test_e_versus_p_for_ordinal_items_uses_the_scaled_shifted_difference():
    data = sm.read_survey(REF_DIR / "data" / "example.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm.ServmodelsWarning)  # n = 100 for 50 ordinal items: Heywood warnings
        res = ep_structure_test(data, options={"estimator": "WLSMV"})
    ref = REF["ep_example"]
    t = res.table.set_index("model")
    for name in ("free_loadings", "equal_loadings"):
        assert t.loc[name, "chisq"] == pytest.approx(ref[name]["fit"]["chisq"], rel=1e-6)
        assert t.loc[name, "chisq_scaled"] == pytest.approx(ref[name]["fit"]["chisq.scaled"], rel=1e-6)
    assert t.loc["equal_loadings", "chisq_diff"] == pytest.approx(ref["diff"]["chisq_diff"], rel=1e-6)
    assert t.loc["equal_loadings", "p_diff"] == pytest.approx(ref["diff"]["p"], rel=1e-5)


def test_equal_thresholds_need_the_same_categories_in_every_group():
    df = pd.read_csv(DATA["sim"])
    df.loc[(df["g"] == "g2") & (df["y5"] == 1), "y5"] = 2  # nobody in g2 chose category 1 of y5
    with pytest.raises(sm.ParameterError, match="y5.*categories nobody chose"):
        cfa(df, REF["sim"]["model"], estimator="WLSMV", group="g", group_equal=("thresholds", "loadings"))
    # without equal thresholds each group has its own, and the fit runs
    assert cfa(df, REF["sim"]["model"], estimator="WLSMV", group="g").converged
