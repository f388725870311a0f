"""Cluster-robust CFA (``cluster=``) against lavaan 0.6-14 ``cfa(..., cluster = "village")``
(tests/reference/R/lavaan_cluster.R -> lavaan_cluster.json), and ``cluster=`` meaning the
same in regress, compare and the bootstrap.

Tolerances: scaled/robust statistics and scaling factors 1e-4 relative (optimiser output;
observed ~1e-7); the unscaled chi-square 1e-6 relative; SEs 1e-4 relative; estimates 5e-5
relative + 1e-6 absolute (lavaan stops with a gradient of ~5e-6, recorded in the JSON).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels import ServmodelsError
from servmodels._exceptions import ParameterError, ValidationError
from servmodels.cli import main
from servmodels.sem import SEMOptions, cfa

REF = json.loads((Path(__file__).parent / "reference" / "lavaan_cluster.json").read_text())
DATA = Path(__file__).parent / "reference" / "data"
SIM = pd.read_csv(DATA / "sim25_cluster.csv")
EXAMPLE = pd.read_csv(DATA / "example.csv")
MAP = {
    "chisq.scaled": "chisq_scaled", "chisq.scaling.factor": "scaling_factor", "pvalue.scaled": "pvalue_scaled",
    "baseline.chisq.scaled": "baseline_chisq_scaled", "baseline.chisq.scaling.factor": "baseline_scaling_factor",
    "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled", "rmsea.scaled": "rmsea_scaled",
    "cfi.robust": "cfi_robust", "tli.robust": "tli_robust", "rmsea.robust": "rmsea_robust",
}
EXACT = {"chisq": "chisq", "df": "df", "npar": "npar", "baseline.chisq": "baseline_chisq", "cfi": "cfi", "tli": "tli",
         "rmsea": "rmsea", "logl": "loglik"}


def _row(frame, row, group=None):
    sel = (frame.op == row["op"]) & (frame.lhs == row["lhs"]) & (frame.rhs == row["rhs"])
    if group is not None:
        sel &= frame.group == group
    m = frame[sel]
    assert len(m) == 1, row
    return m.iloc[0]


def check(res, ref, group_labels=None):
    for k, ours in MAP.items():
        assert res.fit[ours] == pytest.approx(ref["fit"][k], rel=1e-4), k
    for k, ours in EXACT.items():
        assert res.fit[ours] == pytest.approx(ref["fit"][k], rel=1e-6), k
    for row in ref["parameters"]:
        group = None if group_labels is None else group_labels[row["group"] - 1]
        ours = _row(res.parameters, row, group)
        assert ours["estimate"] == pytest.approx(row["est"], rel=5e-5, abs=1e-6), row
        assert ours["se"] == pytest.approx(row["se"], rel=1e-4, abs=1e-8), row
    assert res.n_clusters == ref["n_clusters"]
    assert res.n_respondents == ref["n"]


def model() -> str:
    return REF["sim_mlr"]["model"]


def test_cluster_mlr_matches_lavaan_on_30_villages():
    ref = REF["sim_mlr"]
    res = cfa(SIM, model(), estimator="MLR", cluster="village")
    check(res, ref)
    # the scaled test lavaan reports is not that of plain MLR (the same data without clusters)
    plain = REF["sim_mlr_no_cluster"]["fit"]["chisq.scaled"]
    assert abs(res.fit["chisq_scaled"] - plain) / plain > 0.005


def test_cluster_mlr_matches_lavaan_on_the_example():
    ref = REF["example_mlr"]
    res = cfa(EXAMPLE, model(), estimator="MLR", cluster="village")
    check(res, ref)


def test_cluster_ml_uses_h1_information_in_the_test_as_lavaan():
    ref = REF["sim_ml"]
    res = cfa(SIM, model(), estimator="ML", cluster="village")
    check(res, ref)
    # same SEs as MLR with the cluster; a different scaled test
    mlr = REF["sim_mlr"]
    assert res.fit["chisq_scaled"] != pytest.approx(mlr["fit"]["chisq.scaled"], rel=1e-3)


def test_cluster_with_groups_matches_lavaan():
    ref = REF["sim_mlr_groups"]
    res = cfa(SIM, model(), estimator="MLR", cluster="village", group="gender")
    check(res, ref, group_labels=res.groups)  # lavaan numbers groups in order of appearance, as we do


def test_plain_mlr_with_means_matches_lavaan_and_differs_from_clustered():
    # the same data without the cluster: lavaan's MLR (meanstructure = TRUE); SEs differ by up to ~2.5x
    ref = REF["sim_mlr_no_cluster"]
    res = cfa(SIM, model(), estimator="MLR", meanstructure=True)
    for k, ours in MAP.items():
        assert res.fit[ours] == pytest.approx(ref["fit"][k], rel=1e-4), k
    clustered = {(r["lhs"], r["op"], r["rhs"]): r["se"] for r in REF["sim_mlr"]["parameters"]}
    ratios = [clustered[(r["lhs"], r["op"], r["rhs"])] / r["se"] for r in ref["parameters"] if r["se"] > 0]
    assert max(ratios) > 1.5 and min(ratios) < 0.9


def test_cluster_through_survey_data_and_options():
    data = sm.read_survey(SIM, "servqual25", scale=(1, 5), score_sets=["P"], groups=["village"])
    res = cfa(data, options=SEMOptions(estimator="MLR", cluster="village"))
    ref = REF["sim_mlr"]
    assert res.fit["chisq_scaled"] == pytest.approx(ref["fit"]["chisq.scaled"], rel=1e-4)
    assert res.to_dict()["n_clusters"] == 30 and res.to_dict()["cluster"] == "village"
    assert "30 clusters (village)" in res.summary()
    assert res.options.label == "MLR, cluster=village"


def test_cli_cfa_cluster_json_equals_lavaan(capsys):
    # the interface: fit.chisq_scaled and every parameter's se equal lavaan's
    code = main(["cfa", str(DATA / "sim25_cluster.csv"), "--scale", "1", "5", "--scores", "P", "--estimator", "MLR",
                 "--cluster", "village", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    ref = REF["sim_mlr"]
    assert doc["fit"]["chisq_scaled"] == pytest.approx(ref["fit"]["chisq.scaled"], rel=1e-4)
    assert doc["n_clusters"] == 30
    params = pd.DataFrame(doc["parameters"])
    for row in ref["parameters"]:
        assert _row(params, row)["se"] == pytest.approx(row["se"], rel=1e-4, abs=1e-8), row


# ----------------------------------------------------------------------------- bad input
def test_missing_cluster_ids_are_named_by_row():
    bad = SIM.copy()
    bad["village"] = bad["village"].astype(object)
    bad.loc[[3, 10], "village"] = None
    with pytest.raises(ValidationError, match=r"village.*rows? 4, 11"):
        cfa(bad, model(), estimator="MLR", cluster="village")


def test_one_cluster_is_an_error():
    one = SIM.assign(village="V01")
    with pytest.raises(ValidationError, match="1 cluster"):
        cfa(one, model(), estimator="MLR", cluster="village")


def test_unknown_cluster_column():
    with pytest.raises(ServmodelsError, match="cluster column 'villages' not found"):
        cfa(SIM, model(), estimator="MLR", cluster="villages")


@pytest.mark.parametrize("opts, what", [
    (dict(estimator="WLSMV", cluster="village"), "WLSMV"),
    (dict(estimator="MLR", missing="fiml", cluster="village"), "fiml"),
    (dict(estimator="MLR", likelihood="wishart", cluster="village"), "wishart"),
    (dict(cluster=""), "column name"),
])
def test_combinations_not_implemented_are_errors(opts, what):
    with pytest.raises(ParameterError, match=what):
        SEMOptions(**opts)


def test_cluster_needs_raw_data():
    with pytest.raises(ParameterError, match="raw data"):
        cfa(model="f =~ a + b + c", sample_cov=np.eye(3), n_obs=10, estimator="MLR", cluster="village")


def test_cluster_refuses_meanstructure_false():
    with pytest.raises(ParameterError, match="meanstructure"):
        cfa(SIM, model(), estimator="MLR", cluster="village", meanstructure=False)


def test_validity_refuses_a_cluster():
    data = sm.read_survey(SIM, "servqual25", scale=(1, 5), score_sets=["P"], groups=["village"])
    with pytest.raises(ParameterError, match="cluster"):
        sm.validity(data, options=SEMOptions(cluster="village"), n_resamples=0)


# ----------------------------------------------------------------------------- one flag everywhere
def test_regress_cluster_alone_means_cluster_robust():
    ex = sm.read_survey(sm.load_example(), outcome="satisfaction", groups=["village"])
    a = sm.regress(ex, scores="P", cluster="village")
    b = sm.regress(ex, scores="P", cov_type="cluster", cluster="village")
    assert a.cov_type == b.cov_type == "cluster-robust by village"
    np.testing.assert_array_equal(a.coefficients["se"], b.coefficients["se"])
    # the value itself is checked against sandwich::vcovCL in test_regression.py
    with pytest.raises(ParameterError, match="contradicts"):
        sm.regress(ex, scores="P", cov_type="HC3", cluster="village")
    with pytest.raises(ParameterError, match="ordinal"):
        sm.regress(ex, scores="P", cluster="village", ordinal=True)
    # a DataFrame: the cluster column is read with the answers
    c = sm.regress(sm.load_example(), scores="P", cluster="village", outcome="satisfaction")
    np.testing.assert_array_equal(a.coefficients["se"], c.coefficients["se"])


def test_one_cluster_is_an_error_in_regress_and_bootstrap():
    df = sm.load_example().assign(village="Bawang")
    with pytest.raises(ValidationError, match="1 cluster"):
        sm.regress(df, scores="P", cluster="village", outcome="satisfaction")
    with pytest.raises(ValidationError, match="1 cluster"):
        sm.gap_bootstrap(df, cluster="village", n_resamples=10)


def test_compare_cluster_reaches_regressions_bootstrap_and_cfa():
    ex = sm.read_survey(sm.load_example(), outcome="satisfaction", groups=["village"])
    res = sm.compare_servqual_servperf(ex, n_resamples=50, n_repeats=1, rng=3, cluster="village",
                                       options=SEMOptions(estimator="MLR"))
    plain = sm.compare_servqual_servperf(ex, n_resamples=50, n_repeats=1, rng=3, include_cfa=False)
    assert res.servperf.cov_type == "cluster-robust by village"
    ref = sm.regress(ex, scores="gap", cluster="village")
    np.testing.assert_array_equal(res.servqual.coefficients["se"], ref.coefficients["se"])
    # whole villages resampled: another interval from the same seed
    assert res.r2_difference["ci_low"] != plain.r2_difference["ci_low"]
    assert "cluster=village" in res.cfa_fit["estimator"].iloc[0]


def test_cli_cluster_flag_in_regress(capsys):
    path = DATA / "example.csv"
    code = main(["regress", str(path), "--outcome", "satisfaction", "--cluster", "village", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["cov_type"] == "cluster-robust by village"
