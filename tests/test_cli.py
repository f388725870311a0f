"""The command line: JSON interfaces, one-line errors, exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def example_csv(tmp_path):
    path = tmp_path / "survey.csv"
    sm.load_example().to_csv(path, index=False)
    return path


def test_score_json_interface(capsys, example_csv):
    code, out, err = run(capsys, "score", str(example_csv), "--scale", "1", "5", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["n_respondents"] == 100 and doc["n_dropped"] == 0
    assert list(doc["dimensions"]) == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    df = sm.load_example()
    # closed form: the dimension mean is the mean of its items over respondents
    expected = df[[f"P{i}" for i in range(16, 21)]].to_numpy().mean()
    assert doc["dimensions"]["assurance"]["perception"] == pytest.approx(expected, rel=1e-12)
    gap = (df[[f"P{i}" for i in range(1, 6)]].to_numpy() - df[[f"E{i}" for i in range(1, 6)]].to_numpy()).mean()
    assert doc["dimensions"]["tangibles"]["gap"] == pytest.approx(gap, rel=1e-12)
    assert set(doc["dimensions"]["empathy"]) == {"expectation", "perception", "gap"}


def test_items_json_interface(capsys, example_csv, psych_ref):
    code, out, err = run(capsys, "items", str(example_csv), "--scale", "1", "5", "--scores", "P", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["r_critical"] == pytest.approx(psych_ref["cases"]["example"]["r_critical"], rel=1e-12)
    dim = doc["dimensions"]["reliability"]
    ref = psych_ref["cases"]["example"]["sets"]["P"]["dimensions"]["reliability"]
    assert dim["alpha"] == pytest.approx(ref["raw_alpha"], rel=1e-9)
    assert dim["alpha_standardized"] == pytest.approx(ref["std_alpha"], rel=1e-9)
    assert dim["alpha_ci_low"] == pytest.approx(ref["feldt_low"], rel=1e-9)
    assert dim["alpha_ci_high"] == pytest.approx(ref["feldt_high"], rel=1e-9)
    item = dim["items"][1]
    assert item["item"] == "P7"
    assert item["item_total_r"] == pytest.approx(ref["raw_r"][1], rel=1e-9)
    assert item["corrected_item_total_r"] == pytest.approx(ref["r_drop"][1], rel=1e-9)
    assert item["alpha_if_deleted"] == pytest.approx(ref["alpha_drop"][1], rel=1e-9)


def test_items_on_gap_scores(capsys, example_csv, psych_ref):
    code, out, _ = run(capsys, "items", str(example_csv), "--scores", "gap", "--json")
    assert code == 0
    doc = json.loads(out)
    ref = psych_ref["cases"]["example"]["sets"]["gap"]["dimensions"]["empathy"]
    assert doc["dimensions"]["empathy"]["alpha"] == pytest.approx(ref["raw_alpha"], rel=1e-9)


@pytest.mark.parametrize(
    "mutate, pattern",
    [
        (lambda df: df.assign(P4=df["P4"].where(df.index != 9, 6)), r"column 'P4'.*at row 10"),
        (lambda df: df.assign(E2=df["E2"].astype(object).where(df.index != 2, "banyak")), r"column 'E2': non-numeric text \('banyak'\) at row 3"),
        (lambda df: df.drop(columns="P17"), r"column 'P17': required column is missing"),
    ],
)
def test_bad_files_exit_2_with_one_line(capsys, tmp_path, mutate, pattern):
    path = tmp_path / "bad.csv"
    mutate(sm.load_example()).to_csv(path, index=False)
    scores = "E" if "E2" in pattern else "P"  # items reads only the score set it analyses
    for cmd in (["score", str(path), "--scale", "1", "5", "--json"], ["items", str(path), "--scale", "1", "5", "--scores", scores, "--json"]):
        code, out, err = run(capsys, *cmd)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1 and err.startswith("servmodels: error:")
        assert __import__("re").search(pattern, err), err


def test_missing_file_and_usage_errors(capsys, tmp_path):
    code, _, err = run(capsys, "score", str(tmp_path / "none.csv"))
    assert code == 2 and "no such file" in err
    with pytest.raises(SystemExit) as ei:
        main(["score"])
    assert ei.value.code == 2


def test_out_files_and_nan_policy(capsys, tmp_path):
    df = sm.load_example()
    df.loc[[4, 9], "P3"] = None
    path = tmp_path / "gaps.csv"
    df.to_csv(path, index=False)
    code, _, err = run(capsys, "score", str(path))
    assert code == 2 and "missing values" in err and "rows 5, 10" in err
    out = tmp_path / "scores.parquet"
    code, stdout, err = run(capsys, "score", str(path), "--nan-policy", "omit", "--out", str(out), "--json")
    assert code == 0, err
    doc = json.loads(stdout)
    assert doc["n_respondents"] == 98 and doc["n_dropped"] == 2 and doc["dropped_rows"] == [5, 10]
    written = pd.read_parquet(out)
    assert len(written) == 98 and "gap_overall" in written
    for ext in (".csv", ".xlsx"):
        code, _, err = run(capsys, "items", str(path), "--nan-policy", "omit", "--out", str(tmp_path / f"i{ext}"))
        assert code == 0, err
    code, _, err = run(capsys, "score", str(path), "--nan-policy", "omit", "--out", str(tmp_path / "x.doc"))
    assert code == 2 and "unsupported extension" in err


def test_validate_command(capsys, example_csv):
    code, out, _ = run(capsys, "validate", str(example_csv), "--id", "respondent_id", "--group", "village", "--json")
    assert code == 0 and json.loads(out)["valid"] is True
    code, out, _ = run(capsys, "validate", str(example_csv))
    assert code == 0 and out.startswith("OK:")


def test_custom_instrument_file_and_map(capsys, tmp_path):
    spec = tmp_path / "inst.yaml"
    spec.write_text("name: two\nscale: [1, 4]\nscore_sets: [P]\ndimensions:\n  speed: [1, 2]\n  care: [3, 4]\n")
    df = sm.load_example()[["P1", "P2", "P3", "P4"]].rename(columns={"P1": "q1"})
    path = tmp_path / "s.csv"
    df.to_csv(path, index=False)
    code, out, err = run(capsys, "score", str(path), "--instrument", str(spec), "--map", "P1=q1", "--json")
    assert code == 0, err
    assert set(json.loads(out)["dimensions"]) == {"speed", "care"}


def test_weights_option(capsys, example_csv):
    code, out, _ = run(capsys, "score", str(example_csv), "--json", "--weights", "tangibles=1,reliability=1,responsiveness=1,assurance=1,empathy=1")
    doc = json.loads(out)
    assert code == 0 and doc["overall"]["servqual_weighted"] == pytest.approx(doc["overall"]["servqual"], rel=1e-12)
    code, _, err = run(capsys, "score", str(example_csv), "--weights", "tangibles")
    assert code == 2 and "--weights" in err


def test_module_entry_point_and_demo(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "servmodels", "demo", "--out", str(tmp_path / "d")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "d" / "report.md").read_text()
    assert "SYNTHETIC" in report and "α if deleted" in report  # item analysis with Cronbach's alpha
    assert "servmodels app" in proc.stdout.splitlines()[-1]  # `make demo` points to the web app
    for name in ("report.html", "report.docx", "report.tex", "report_id.html", "report_id.docx", "report_id.md",
                 "report_id.tex", "analysis.json", "item_scores.csv"):
        assert (tmp_path / "d" / name).stat().st_size > 0, name
    proc = subprocess.run([sys.executable, "-m", "servmodels", "score", str(tmp_path / "missing.sav")], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_cfa_instrument_model_json(capsys, tmp_path):
    ref = json.loads((__import__("pathlib").Path(__file__).parent / "reference" / "lavaan_cfa.json").read_text())
    path = __import__("pathlib").Path(__file__).parent / "reference" / "data" / "sim25.csv"
    code, out, err = run(capsys, "cfa", str(path), "--scale", "1", "5", "--scores", "P", "--json")
    assert code == 0, err
    doc = json.loads(out)
    lav = ref["cases"]["servqual25_P"]["fit"]
    assert doc["fit"]["chisq"] == pytest.approx(lav["chisq"], rel=1e-6)
    for k, lk in (("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"), ("rmsea_ci_low", "rmsea.ci.lower"),
                  ("rmsea_ci_high", "rmsea.ci.upper"), ("aic", "aic"), ("bic", "bic"), ("loglik", "logl"), ("npar", "npar"), ("df", "df"), ("pvalue", "pvalue")):
        assert doc["fit"][k] == pytest.approx(lav[lk], rel=1e-6), k
    assert doc["fit"]["srmr"] == pytest.approx(lav["srmr"], rel=1e-5)
    assert {"lhs", "op", "rhs", "est", "se", "std_all"} <= set(doc["parameters"][0])
    assert doc["parameters"][0]["lhs"] == "tangibles"


def test_cfa_model_file_group_invariance(capsys, tmp_path):
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "reference" / "lavaan_cfa.json").read_text())
    model = tmp_path / "hs.lav"
    model.write_text(ref["cases"]["hs"]["model"] + "\n")
    data = Path(__file__).parent / "reference" / "data" / "holzinger_swineford.csv"
    code, out, err = run(capsys, "cfa", str(data), "--model-file", str(model), "--group", "school", "--invariance", "--json")
    assert code == 0, err
    doc = json.loads(out)
    inv = {row["model"]: row for row in doc["invariance"]}
    for lev, r in ref["cases"]["hs_invariance"]["levels"].items():
        assert inv[lev]["chisq"] == pytest.approx(r["fit"]["chisq"], rel=1e-6)
        assert inv[lev]["df"] == r["fit"]["df"]
        assert {"cfi", "tli", "rmsea", "srmr"} <= set(inv[lev])
    code, _, err = run(capsys, "cfa", str(data), "--model", "visual =~ x1 + x2 + nothere")
    assert code == 2 and "nothere" in err
    code, _, err = run(capsys, "cfa", str(data), "--model-file", str(model), "--invariance")
    assert code == 2 and "--group" in err


def test_cfa_mlr_and_fiml_flags(capsys, tmp_path):
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "reference" / "lavaan_robust.json").read_text())
    data = Path(__file__).parent / "reference" / "data"
    model = ref["hs_mlr"]["model"]
    code, out, err = run(capsys, "cfa", str(data / "holzinger_swineford.csv"), "--model", model, "--estimator", "MLR", "--json")
    assert code == 0, err
    fit = json.loads(out)["fit"]
    for k, lk in (("chisq_scaled", "chisq.scaled"), ("df_scaled", "df.scaled"), ("pvalue_scaled", "pvalue.scaled"),
                  ("scaling_factor", "chisq.scaling.factor"), ("cfi_robust", "cfi.robust"), ("tli_robust", "tli.robust"),
                  ("rmsea_robust", "rmsea.robust")):
        assert fit[k] == pytest.approx(ref["hs_mlr"]["fit"][lk], rel=1e-4), k
    code, out, err = run(capsys, "cfa", str(data / "holzinger_swineford_missing.csv"), "--model", model, "--missing", "fiml", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["n_respondents"] == 301
    for k, lk in (("chisq", "chisq"), ("df", "df"), ("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"), ("loglik", "logl")):
        assert doc["fit"][k] == pytest.approx(ref["hs_fiml"]["fit"][lk], rel=1e-6), k
    assert doc["fit"]["srmr"] == pytest.approx(ref["hs_fiml"]["fit"]["srmr"], rel=1e-5)
    # instrument model on a Likert file with empty cells: nobody is dropped
    df = sm.load_example()
    df.loc[[1, 7], "P3"] = None
    path = tmp_path / "gaps.csv"
    df.to_csv(path, index=False)
    code, out, err = run(capsys, "cfa", str(path), "--scores", "P", "--missing", "fiml", "--json")
    assert code == 0, err
    assert json.loads(out)["n_respondents"] == 100


def test_cfa_wlsmv_json(capsys):
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "reference" / "lavaan_robust.json").read_text())["sim_wlsmv"]
    path = Path(__file__).parent / "reference" / "data" / "sim25.csv"
    code, out, err = run(capsys, "cfa", str(path), "--scale", "1", "5", "--scores", "P", "--estimator", "WLSMV", "--json")
    assert code == 0, err
    doc = json.loads(out)
    for k, lk in (("chisq", "chisq"), ("chisq_scaled", "chisq.scaled"), ("df", "df"), ("cfi_scaled", "cfi.scaled"),
                  ("tli_scaled", "tli.scaled"), ("rmsea_scaled", "rmsea.scaled"), ("srmr", "srmr")):
        assert doc["fit"][k] == pytest.approx(ref["fit"][lk], rel=1e-4, abs=1e-10), k
    loading = next(p for p in doc["parameters"] if p["op"] == "=~" and p["rhs"] == "P2")
    lav = next(p for p in ref["parameters"] if p["op"] == "=~" and p["rhs"] == "P2")
    assert loading["std_all"] == pytest.approx(lav["std.all"], rel=1e-5)


def test_reliability_and_efa_commands(capsys):
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "reference" / "validity.json").read_text())
    path = Path(__file__).parent / "reference" / "data" / "sim25.csv"
    code, out, err = run(capsys, "reliability", str(path), "--scale", "1", "5", "--scores", "P", "--n-resamples", "50", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc["dimensions"]) == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    for dim, v in ref["omega"].items():
        assert doc["dimensions"][dim]["omega"] == pytest.approx(v, rel=1e-5)
        assert doc["dimensions"][dim]["ave"] == pytest.approx(ref["ave"][dim], rel=1e-5)
        assert {"alpha", "composite_reliability"} <= set(doc["dimensions"][dim])
    np.testing.assert_allclose(np.array(doc["htmt"]), np.array(ref["htmt"]), rtol=1e-9)
    assert doc["kmo"] == pytest.approx(ref["kmo"]["overall"], rel=1e-9)
    assert doc["bartlett"]["chisq"] == pytest.approx(ref["bartlett"]["chisq"], rel=1e-9)
    assert set(doc["bartlett"]) == {"chisq", "df", "p_value"}
    again = json.loads(run(capsys, "reliability", str(path), "--scale", "1", "5", "--n-resamples", "50", "--json")[1])
    assert again["htmt_ci_high"] == doc["htmt_ci_high"]  # same default seed
    code, out, err = run(capsys, "efa", str(path), "--scale", "1", "5", "--n-iter", "10", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["suggested_n_factors"] == 5 and len(doc["loadings"]) == 5




def test_regress_and_compare_commands(capsys):
    from pathlib import Path

    ref = json.loads((Path(__file__).parent / "reference" / "regression.json").read_text())
    path = Path(__file__).parent / "reference" / "data" / "sim_regress.csv"
    code, out, err = run(capsys, "compare", str(path), "--scale", "1", "5", "--outcome", "satisfaction",
                         "--n-resamples", "50", "--n-repeats", "2", "--no-cfa", "--json")
    assert code == 0, err
    doc = json.loads(out)
    for side in ("servperf", "servqual"):
        for k in ("r2", "adj_r2", "aic", "bic"):
            assert doc[side][k] == pytest.approx(ref[side][k], rel=1e-9)
        assert doc[side]["coef"]["intercept"] == pytest.approx(ref[side]["coef"]["(Intercept)"], rel=1e-9)
        assert doc[side]["se_classical"]["empathy"] == pytest.approx(ref[side]["se_classical"]["empathy"], rel=1e-9)
    assert doc["j_test"]["servqual_vs_servperf"]["statistic"] == pytest.approx(ref["jtest"]["statistic"][0], rel=1e-9)
    assert doc["cox_test"]["servperf_vs_servqual"]["statistic"] == pytest.approx(ref["coxtest"]["statistic"][1], rel=1e-9)
    assert set(doc["cv_r2"]) == {"servperf", "servqual"}
    code, out, err = run(capsys, "regress", str(path), "--scale", "1", "5", "--outcome", "satisfaction", "--scores", "gap", "--json")
    assert code == 0, err
    assert json.loads(out)["se"]["reliability"] == pytest.approx(ref["servqual"]["se_hc3"]["reliability"], rel=1e-9)
    code, _, err = run(capsys, "compare", str(path), "--scale", "1", "5")
    assert code == 2 and "--outcome" in err


def test_ordinal_regress_and_efa_with_given_factors(capsys):
    # the issue-16 command lines: ordinal logit of a 6-level item on the bfi trait scores (MASS::polr,
    # 1e-6 relative) and an EFA with the number of factors given (no parallel analysis)
    from pathlib import Path

    ref_dir = Path(__file__).parent / "reference"
    polr = json.loads((ref_dir / "regression.json").read_text())["polr_bfi"]
    bfi, inst = ref_dir / "data" / "bfi.csv", ref_dir / "instruments" / "bfi.json"
    code, out, err = run(capsys, "regress", str(bfi), "--instrument", str(inst), "--nan-policy", "omit",
                         "--outcome", "A1", "--ordinal", "--json")
    assert code == 0, err
    doc = json.loads(out)
    for k, v in polr["coef"].items():
        assert doc["coef"][k] == pytest.approx(v, rel=1e-6)
        assert doc["se"][k] == pytest.approx(polr["se"][k], rel=1e-6)
    assert [t["threshold"] for t in doc["thresholds"]] == list(polr["zeta"])
    assert doc["n_respondents"] == polr["n"] and doc["n_dropped"] == 2800 - polr["n"]
    code, out, err = run(capsys, "efa", str(ref_dir / "data" / "sim25.csv"), "--scale", "1", "5", "--n-factors", "5",
                         "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["suggested_n_factors"] is None and len(doc["loadings"]) == 5
    assert all(row["fa_random_95"] is None for row in doc["eigenvalues"])


def test_bootstrap_command_is_deterministic(capsys, example_csv):
    argv = ["bootstrap", str(example_csv), "--scale", "1", "5", "--level", "dimension", "--method", "bca",
            "--n-resamples", "300", "--seed", "7", "--json"]
    code, out1, err = run(capsys, *argv)
    assert code == 0, err
    _, out2, _ = run(capsys, *argv)
    assert out1 == out2
    gaps = json.loads(out1)["gaps"]
    assert [g["name"] for g in gaps] == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    assert {"level", "name", "estimate", "se", "ci_low", "ci_high", "p_value", "p_adjusted"} <= set(gaps[0])
    df = sm.load_example()
    assurance = (df[[f"P{i}" for i in range(16, 21)]].to_numpy() - df[[f"E{i}" for i in range(16, 21)]].to_numpy()).mean()
    assert gaps[3]["estimate"] == pytest.approx(assurance, rel=1e-12)
    code, out, _ = run(capsys, "bootstrap", str(example_csv), "--level", "item", "--n-resamples", "100", "--cluster", "village", "--json")
    assert code == 0 and len(json.loads(out)["gaps"]) == 25
