"""Study planning (issue 18): RMSEA power and sample size, gap precision, pilot estimates, Monte Carlo.

References (tests/reference/planning.json from tests/reference/R/planning.R; R 4.2.2, semTools 0.5-6,
lavaan 0.6-14) and tolerances:

* RMSEA power (single and nested models): ``semTools::findRMSEApower`` / ``findRMSEApowernested`` —
  closed forms of noncentral chi-square quantiles and tails, 1e-9 relative (observed ~1e-14);
* sample sizes: ``findRMSEAsamplesize`` / ``findRMSEAsamplesizenested`` — exact integers (and semTools'
  per-group value n / group for two groups);
* gap sample size: the t-based closed form with R's ``qt`` and the design effect — exact integers, design
  effect 1e-12;
* pilot: thresholds (``qnorm`` of cumulative proportions) 1e-12 absolute; one-factor loadings on
  polychoric (``lavCor``) or Pearson correlation blocks (``lavaan::cfa``, optimiser output) 1e-5
  absolute (observed ~1e-6: our polychorics agree with lavCor to ~1e-6); latent correlations 1e-5;
  outcome correlation 1e-5; gap SDs 1e-12 relative; paired t tests (``t.test``) 1e-10 relative.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels import planning
from servmodels.cli import main

REF = Path(__file__).parent / "reference"
PILOT = REF / "data" / "pilot.csv"
DIMS = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((REF / "planning.json").read_text())


def run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


# ---------------------------------------------------------------------------- 1. RMSEA (MacCallum et al. 1996)
def test_rmsea_power_equals_semtools(ref):
    for case in ref["rmsea_power"]:
        res = sm.plan_rmsea(df=case["df"], n=case["n"], rmsea0=case["rmsea0"], rmsea_a=case["rmsea_a"],
                            alpha=case["alpha"], n_groups=case["n_groups"])
        assert res.power == pytest.approx(case["power"], rel=1e-9, abs=1e-14), case
        assert res.target_power is None and res.n == case["n"]


def test_rmsea_sample_size_equals_semtools(ref):
    for case in ref["rmsea_sample_size"]:
        res = sm.plan_rmsea(df=case["df"], power=case["power"], rmsea0=case["rmsea0"], rmsea_a=case["rmsea_a"],
                            alpha=case["alpha"], n_groups=case["n_groups"])
        assert res.n_per_group == case["n_per_group"], case  # semTools returns n / group
        assert res.n == round(case["n_per_group"] * case["n_groups"])
        assert res.power > case["power"]
        below = planning.rmsea_power(res.n - 1, df=case["df"], rmsea0=case["rmsea0"], rmsea_a=case["rmsea_a"],
                                     alpha=case["alpha"], n_groups=case["n_groups"])
        assert float(below) <= case["power"]  # the smallest such n


def test_the_tests_kinds_are_named(ref):
    assert sm.plan_rmsea(df=265, n=100).test == "close fit"
    assert sm.plan_rmsea(df=265, n=100, rmsea0=0.05, rmsea_a=0.01).test == "not-close fit"
    assert sm.plan_rmsea(df=50, n=120, rmsea0=0.0, rmsea_a=0.05).test == "exact fit"


def test_nested_power_and_sample_size_equal_semtools(ref):
    for case in ref["nested_power"]:
        res = sm.plan_rmsea_nested(df_a=case["df_a"], df_b=case["df_b"], rmsea0_a=case["rmsea0_a"],
                                   rmsea0_b=case["rmsea0_b"], rmsea1_a=case["rmsea1_a"], rmsea1_b=case["rmsea1_b"],
                                   n=case["n"], alpha=case["alpha"], n_groups=case["n_groups"])
        assert res.power == pytest.approx(case["power"], rel=1e-9, abs=1e-14), case
    for case in ref["nested_sample_size"]:
        res = sm.plan_rmsea_nested(df_a=case["df_a"], df_b=case["df_b"], rmsea0_a=case["rmsea0_a"],
                                   rmsea0_b=case["rmsea0_b"], rmsea1_a=case["rmsea1_a"], rmsea1_b=case["rmsea1_b"],
                                   power=case["power"], alpha=case["alpha"], n_groups=case["n_groups"])
        assert res.n_per_group == case["n_per_group"], case


def test_model_df_counts_the_instrument_models():
    # p = 25 items, 325 moments; free: 20 loadings + 25 residuals + 15 factor (co)variances = 60;
    # one factor: 24 + 25 + 1 = 50; second order: 20 + 25 + 4 + 5 + 1 = 55
    assert planning.model_df("servqual25") == 325 - 60
    assert planning.model_df("servqual25", structure="one_factor") == 325 - 50
    assert planning.model_df("servqual25", structure="second_order") == 325 - 55
    # servqual22 (4, 5, 4, 4, 5 items): 253 moments - (17 + 22 + 15)
    assert planning.model_df("servqual22") == 253 - 54
    res = sm.plan_rmsea(n=100)  # df from servqual25 by default
    assert res.parameters["df"] == 265 and "servqual25" in res.parameters["df_source"]


def test_cli_rmsea_interface(ref, capsys):
    code, out, _ = run(["plan", "rmsea", "--df", "265", "--n", "100", "--rmsea0", "0.05", "--rmsea-a", "0.08",
                        "--alpha", "0.05", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    case = ref["rmsea_power"][0]
    assert abs(doc["power"] - case["power"]) < 1e-8
    code, out, _ = run(["plan", "rmsea", "--df", "265", "--power", "0.8", "--rmsea0", "0.05", "--rmsea-a", "0.08",
                        "--json"], capsys)
    assert code == 0 and json.loads(out)["n"] == ref["rmsea_sample_size"][0]["n_per_group"] == 71
    code, out, _ = run(["plan", "rmsea-nested", "--df-a", "22", "--df-b", "20", "--rmsea1-a", "0.06", "--rmsea1-b",
                        "0.05", "--n", "200", "--json"], capsys)
    assert code == 0 and abs(json.loads(out)["power"] - ref["nested_power"][0]["power"]) < 1e-8


def test_power_curve_is_the_power_function():
    res = sm.plan_rmsea(df=265, power=0.8)
    c = res.to_frame()
    assert c["n"].is_monotonic_increasing and c["n"].max() >= 2 * res.n
    assert np.allclose(c["power"], planning.rmsea_power(c["n"], df=265, rmsea0=0.05, rmsea_a=0.08), rtol=0, atol=0)
    assert np.all(np.diff(c["power"]) > 0)


# ---------------------------------------------------------------------------- 2. gap precision
def test_gap_sample_size_equals_the_closed_form_in_r(ref):
    for case in ref["gap"]:
        res = sm.plan_gap(sd=case["sd"], half_width=case["half_width"], confidence_level=case["confidence_level"],
                          icc=case.get("icc"), cluster_size=case.get("cluster_size"))
        assert res.n_srs == case["n_srs"], case
        assert res.n == case["n"], case
        if "icc" in case:
            assert res.design_effect == pytest.approx(case["design_effect"], rel=1e-12)
            assert res.n_clusters == math.ceil(res.n / case["cluster_size"])
    for case in ref["gap_clusters"]:
        res = sm.plan_gap(sd=case["sd"], half_width=case["half_width"], confidence_level=case["confidence_level"],
                          icc=case["icc"], n_clusters=case["n_clusters"])
        assert (res.n_srs, res.cluster_size, res.n) == (case["n_srs"], case["cluster_size"], case["n"]), case
        assert res.design_effect == pytest.approx(case["design_effect"], rel=1e-12)


def test_gap_rounding_is_stated_not_floating_point(ref):
    # n_srs = 100, deff = 1 + 9 x 0.01 = 1.09: 100 x 1.09 is 109.00000000000001 in floating point, which must
    # not add a respondent (the product is rounded to 9 decimals before rounding up)
    case = ref["gap"][-1]
    assert case["n_srs"] == 100 and 100 * (1 + 9 * 0.01) > 109
    assert sm.plan_gap(sd=case["sd"], half_width=case["half_width"], icc=case["icc"],
                       cluster_size=case["cluster_size"]).n == case["n"] == 109


def test_cli_gap_interface(ref, capsys):
    code, out, _ = run(["plan", "gap", "--sd", "0.6", "--half-width", "0.1", "--confidence-level", "0.95", "--icc",
                        "0.05", "--cluster-size", "10", "--json"], capsys)
    assert code == 0 and json.loads(out)["n"] == ref["gap"][0]["n"] == 205
    code, out, _ = run(["plan", "gap", "--sd", "0.6", "--half-width", "0.1", "--confidence-level", "0.95", "--json"],
                       capsys)
    assert code == 0 and json.loads(out)["n"] == ref["gap"][1]["n"] == 141


def test_gap_from_a_pilot_uses_each_dimension_sd(ref, capsys):
    p = ref["pilots"][0]
    res = sm.plan_gap(pilot=PILOT, scale=(1, 5), half_width=0.15, icc=0.05, n_clusters=12)
    rows = res.to_frame().set_index("name")
    for d in DIMS:
        assert rows.loc[d, "sd"] == pytest.approx(p["gap_sd"][d], rel=1e-12)
        assert rows.loc[d, "n_srs"] == planning.n_for_half_width(p["gap_sd"][d], 0.15)
    worst = max(DIMS, key=lambda d: p["gap_sd"][d])
    assert res.binding == worst and res.n == rows["n"].max() and res.n_respondents == 60
    code, out, _ = run(["plan", "gap", "--pilot", str(PILOT), "--scale", "1", "5", "--half-width", "0.15", "--json"],
                       capsys)
    doc = json.loads(out)
    assert code == 0 and doc["binding"] == worst and doc["n_respondents"] == 60 and len(doc["rows"]) == 5


# ---------------------------------------------------------------------------- 3a. pilot estimates
def _same(a, b) -> bool:
    a = np.asarray(a, float)
    b = np.array([float(v) if not isinstance(v, str) else float(v.replace("Inf", "inf")) for v in b])
    with np.errstate(invalid="ignore"):  # inf - inf
        return bool(np.all((a == b) | (np.abs(a - b) <= 1e-12)))


@pytest.mark.parametrize("k", [0, 1, 2])
def test_pilot_estimates_equal_lavaan(ref, k):
    p = ref["pilots"][k]
    est = sm.estimate_pilot(REF.parent.parent / p["file"], scale=tuple(p["scale"]), outcome="satisfaction",
                            correlation=p["method"])
    assert est.n_respondents == p["n"] and est.n_dropped == 0
    for col, tau in p["thresholds"].items():
        assert _same(est.thresholds[col], tau), col
    for col, lam in p["loadings"].items():
        assert est.raw_loadings[col] == pytest.approx(lam, abs=1e-5), col
    names = [n.replace(".", ":") for n in p["latent_names"]]
    raw = est.raw_latent_correlation.loc[names, names].to_numpy()
    np.testing.assert_allclose(raw, np.array(p["latent_correlation"]), rtol=0, atol=1e-5)
    for d in DIMS:
        assert est.gap_sd[d] == pytest.approx(p["gap_sd"][d], rel=1e-12)
    for c, m in p["item_means"].items():
        assert est.item_means[c] == pytest.approx(m, rel=1e-12)
    fixed = est.latent_correlation.to_numpy()
    if est.adjustments:  # the bundled example's estimate is not positive definite: repaired, close to the raw one
        assert any("positive definite" in a for a in est.adjustments)
        # eigenvalues raised to 1e-3, then the diagonal rescaled to 1 (which moves them slightly)
        assert np.linalg.eigvalsh(fixed).min() > 0.9e-3 and np.allclose(np.diag(fixed), 1)
        assert np.abs(fixed - raw).max() < 0.05
    else:
        np.testing.assert_array_equal(fixed, (raw + raw.T) / 2)
        assert est.outcome_correlation == pytest.approx(p["outcome_correlation"], abs=1e-5)


def test_paired_t_of_the_replications_equals_r_t_test(ref):
    p = ref["pilots"][0]
    data = sm.read_survey(PILOT, scale=(1, 5))
    G, dims, idx = planning._gap_arrays(data)
    pv, lo, hi = planning._gap_t(G, idx, 0.95)
    for k, d in enumerate(dims):
        t = p["t_tests"][d]
        assert pv[k] == pytest.approx(t["p_value"], rel=1e-10)
        assert (lo[k], hi[k]) == (pytest.approx(t["ci_low"], rel=1e-12), pytest.approx(t["ci_high"], rel=1e-12))


def test_pilot_errors_name_the_problem():
    df = pd.read_csv(PILOT)
    df["P3"] = 4  # one answer only
    with pytest.warns(sm.ConstantItemWarning), pytest.raises(sm.ParameterError, match="P3 received one answer only"):
        sm.estimate_pilot(df, scale=(1, 5))
    with pytest.raises(sm.ServmodelsError):
        sm.estimate_pilot(df[["P1", "P2"]], scale=(1, 5))


# ---------------------------------------------------------------------------- simulator extensions
def test_simulator_thresholds_reproduce_the_pilot_distribution():
    est = sm.estimate_pilot(PILOT, scale=(1, 5))
    inst = sm.get_instrument("servqual25").with_scale(1, 5)
    n = 20_000
    for vsd in (0.0, 0.4):
        df = sm.simulate_servqual(n, instrument=inst, rng=3, loading=est.loadings, thresholds=est.thresholds,
                                  latent_correlation=est.latent_correlation.to_numpy(), village_sd=vsd, outcome=False)
        expected = sm.simulate.expected_item_means(instrument=inst, loading=est.loadings, thresholds=est.thresholds,
                                                   village_sd=vsd)
        for col in ("E1", "P7", "P25"):
            # thresholds on the marginal scale: the pilot's mean whatever the village effect
            assert expected[col] == pytest.approx(est.item_means[col], abs=1e-12)
            se = df[col].std() / math.sqrt(n)
            # village effects make respondents dependent within the 12 villages: allow for it
            assert abs(df[col].mean() - expected[col]) < 4 * se * (1 + 30 * vsd)


def test_expected_item_means_match_a_large_simulation():
    n = 40_000
    df = sm.simulate_servqual(n, rng=8, village_sd=0.0, villages={f"V{i}": 1 for i in range(200)}, outcome=False)
    m = sm.simulate.expected_item_means(village_sd=0.0)
    for col in ("E1", "P1", "P13"):
        assert abs(df[col].mean() - m[col]) < 4 * df[col].std() / math.sqrt(n)


def test_simulator_checks_its_new_arguments():
    with pytest.raises(sm.ParameterError, match="latent_correlation must be 10 x 10"):
        sm.simulate_servqual(10, latent_correlation=np.eye(3))
    bad = np.eye(10)
    bad[0, 1] = bad[1, 0] = 1.5
    with pytest.raises(sm.ParameterError, match="positive definite"):
        sm.simulate_servqual(10, latent_correlation=bad)
    with pytest.raises(sm.ParameterError, match="thresholds"):
        sm.simulate_servqual(10, thresholds={"P1": [0.0, 1.0]})
    with pytest.raises(sm.ParameterError, match="no loading for"):
        sm.simulate_servqual(10, loading={"P1": 0.5})
    with pytest.raises(sm.ParameterError, match="outcome_correlation"):
        sm.simulate_servqual(10, outcome_correlation=1.0)


# ---------------------------------------------------------------------------- 3b. Monte Carlo
def test_simulation_is_reproducible_and_independent_of_workers():
    kw = dict(replications=3, rng=11, gaps={"tangibles": -0.1, "reliability": -0.9, "responsiveness": -0.3,
                                               "assurance": -0.6, "empathy": 0.0}, compare=True)
    one = sm.plan_simulate([60, 90], workers=1, **kw).to_dict()
    again = sm.plan_simulate([60, 90], workers=1, **kw).to_dict()
    two = sm.plan_simulate([60, 90], workers=2, **kw).to_dict()
    assert one == again == two
    assert one != sm.plan_simulate([60, 90], workers=1, **{**kw, "rng": 12}).to_dict()


def test_simulation_of_a_pilot_orders_power_by_the_true_gap():
    res = sm.plan_simulate([60], replications=30, rng=1, pilot=PILOT, scale=(1, 5), compare=False, cfa_scores=None)
    gaps = res.true_gaps
    est = res.pilot
    for d in DIMS:  # the population gap is the pilot's gap (thresholds reproduce its item means)
        items = sm.get_instrument("servqual25").dimensions[d]
        pilot_gap = np.mean([est.item_means[f"P{i}"] - est.item_means[f"E{i}"] for i in items])
        assert gaps[d] == pytest.approx(pilot_gap, abs=1e-12)
    power = res.table.set_index("dimension")["power"]
    assert power["reliability"] >= power["assurance"] >= power["tangibles"]
    assert power["reliability"] == 1.0


def test_simulation_result_surface_and_json(capsys, tmp_path):
    argv = ["plan", "simulate", "--pilot", str(PILOT), "--scale", "1", "5", "--n", "60,80", "--replications", "3",
            "--seed", "1", "--json"]
    code, out, _ = run(argv, capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["n"] == [60, 80] and doc["replications"] == 3 and doc["seed"] == 1
    for entry in doc["results"]:
        assert set(entry["power"]) == set(DIMS)
        assert 0 <= entry["convergence_rate"] <= 1 and 0 <= entry["ci_coverage"] <= 1
        assert doc["by_n"][str(entry["n"])] == entry
    code, out2, _ = run(argv, capsys)
    assert out2 == out  # identical output for the same seed
    png = tmp_path / "power.png"
    code, out, _ = run(["plan", "simulate", "--n", "50", "--replications", "2", "--no-compare", "--plot", str(png),
                        "--lang", "id", "--out", str(tmp_path / "t.csv")], capsys)
    assert code == 0 and png.stat().st_size > 1000 and "Ukuran sampel dikaji" in out
    assert len(pd.read_csv(tmp_path / "t.csv")) == 5


def test_bootstrap_test_in_the_simulation():
    res = sm.plan_simulate([40], replications=3, rng=2, test="bootstrap", n_resamples=50, cluster=True,
                           compare=False, cfa_scores=None, gaps=-0.8)
    assert res.test == "bca bootstrap by village" and res.table["power"].between(0, 1).all()
    assert "cluster bootstrap" in res.methods_text("en")


# ---------------------------------------------------------------------------- texts, plots, errors
def test_methods_paragraphs_in_both_languages():
    res = sm.plan_gap(sd=0.6, half_width=0.1, icc=0.05, cluster_size=10)
    en, id_ = res.methods_text("en"), res.methods_text("id")
    assert "n = 141" in en and "n = 205" in en and "1.45" in en and "assum" in en
    assert "n = 205" in id_ and "1,45" in id_ and "0,05" in id_ and "mengasumsikan" in id_
    r = sm.plan_rmsea(df=265, power=0.8)
    assert "MacCallum, Browne and Sugawara (1996)" in r.methods_text("en") and "n = 71" in r.methods_text("id")
    assert "0,08" in r.methods_text("id")
    with pytest.raises(sm.ParameterError):
        r.methods_text("fr")


def test_plots_are_figures_and_files(tmp_path):
    from matplotlib.figure import Figure

    for res in (sm.plan_rmsea(df=265, power=0.8), sm.plan_rmsea_nested(df_a=22, df_b=20, rmsea1_a=0.06, n=300),
                sm.plan_gap(sd=0.6, half_width=0.1, icc=0.05, cluster_size=10)):
        fig = res.plot(lang="id")
        assert isinstance(fig, Figure)
        path = tmp_path / f"{res.__class__.__name__}.png"
        res.plot(path)
        assert path.stat().st_size > 1000


@pytest.mark.parametrize("call, param", [
    (lambda: sm.plan_rmsea(df=265, n=100, power=0.8), "n and power"),
    (lambda: sm.plan_rmsea(df=265, n=100, rmsea0=0.05, rmsea_a=0.05), "rmsea_a"),
    (lambda: sm.plan_rmsea(df=0, n=100), "df"),
    (lambda: sm.plan_rmsea(df=265, power=0.01), "power"),
    (lambda: sm.plan_rmsea(df=265, n=100, alpha=1.5), "alpha"),
    (lambda: sm.plan_rmsea_nested(df_a=20, df_b=22, rmsea1_a=0.06, n=100), "df_a"),
    (lambda: sm.plan_rmsea_nested(df_a=22, df_b=20, rmsea1_a=0.04, rmsea1_b=0.05, n=100), "rmsea1_a"),
    (lambda: sm.plan_rmsea_nested(df_a=22, df_b=20, rmsea0_a=0.06, rmsea0_b=0.05, rmsea1_a=0.06, rmsea1_b=0.05,
                                  power=0.8), "rmsea1_a, rmsea1_b"),
    (lambda: sm.plan_gap(half_width=0.1), "sd and pilot"),
    (lambda: sm.plan_gap(sd=0.6, half_width=0), "half_width"),
    (lambda: sm.plan_gap(sd=0.6, half_width=0.1, icc=0.05), "icc"),
    (lambda: sm.plan_gap(sd=0.6, half_width=0.1, cluster_size=10), "cluster_size"),
    (lambda: sm.plan_gap(sd=0.6, half_width=0.1, icc=1.0, cluster_size=10), "icc"),
    (lambda: sm.plan_gap(sd=0.6, half_width=0.02, icc=0.2, n_clusters=12), "n_clusters"),
    (lambda: sm.plan_simulate([5]), "n"),
    (lambda: sm.plan_simulate([50], test="t", cluster=True), "cluster"),
    (lambda: sm.plan_simulate([50], gaps={"tangibles": -0.2}), "gaps"),
    (lambda: sm.plan_simulate([50], gaps=-5), "gaps"),
    (lambda: sm.plan_simulate([50], pilot=PILOT, scale=(1, 5), loading=0.6), "loading"),
])
def test_bad_arguments_raise_parameter_errors(call, param):
    with pytest.raises(sm.ParameterError) as info:
        call()
    assert str(info.value).startswith(param)


@pytest.mark.parametrize("argv, flag", [
    (["plan", "rmsea", "--df", "265", "--n", "100", "--power", "0.8"], "--n and power"),
    (["plan", "rmsea", "--rmsea0", "nan"], "--rmsea0"),
    (["plan", "gap", "--half-width", "0.1"], "sd and pilot"),
    (["plan", "gap", "--sd", "0.6", "--half-width", "0.1", "--icc", "0.05"], "--icc"),
    (["plan", "gap", "--pilot", "no_such_file.csv", "--half-width", "0.1"], "no_such_file.csv"),
    (["plan", "simulate", "--n", "abc"], "--n"),
    (["plan", "simulate", "--n", "100", "--workers", "-1"], "--workers"),
    (["plan", "rmsea-nested", "--df-a", "20", "--df-b", "22", "--rmsea1-a", "0.06", "--n", "100"], "--df-a"),
])
def test_cli_errors_are_one_line(argv, flag, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("servmodels: error:") and flag in err


def test_plan_help_does_not_import_the_numerical_stack():
    code = ("import sys, contextlib, io\nimport servmodels.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        servmodels.cli.main(['plan', 'simulate', '--help'])\n"
            "    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------- slow: Monte Carlo properties
@pytest.mark.slow
def test_t_interval_coverage_and_power_match_theory_without_clustering():
    """Without village effects the paired-t interval covers the true gap 95 % of the time and the power
    equals the noncentral-t power at the dimension gap's population SD (estimated from 200 000 draws)."""
    from scipy import stats

    n, R = 80, 600
    gaps = {"tangibles": -0.1, "reliability": -0.2, "responsiveness": -0.15, "assurance": -0.25, "empathy": -0.05}
    res = sm.plan_simulate([n], replications=R, rng=5, gaps=gaps, village_sd=0.0, compare=False, cfa_scores=None,
                           workers=2)
    t = res.table.set_index("dimension")
    big = sm.simulate_servqual(200_000, rng=9, item_means=planning._means_for_gaps(sm.get_instrument("servqual25"), gaps),
                               village_sd=0.0, outcome=False, villages={f"V{i}": 1 for i in range(500)})
    data = sm.read_survey(big)
    G, dims, idx = planning._gap_arrays(data)
    crit = stats.t.ppf(0.975, n - 1)
    for k, d in enumerate(dims):
        g = G[:, idx[k]].mean(axis=1)
        sigma = g.std(ddof=1)
        assert abs(g.mean() - res.true_gaps[d]) < 4 * sigma / math.sqrt(len(g))
        ncp = res.true_gaps[d] * math.sqrt(n) / sigma
        theory = stats.nct.sf(crit, n - 1, ncp) + stats.nct.cdf(-crit, n - 1, ncp)
        se = math.sqrt(theory * (1 - theory) / R)
        assert abs(t.loc[d, "power"] - theory) < 4 * se + 1e-3, (d, t.loc[d, "power"], theory)
        assert abs(t.loc[d, "ci_coverage"] - 0.95) < 4 * math.sqrt(0.95 * 0.05 / R)


@pytest.mark.slow
def test_cluster_bootstrap_restores_coverage_that_the_t_interval_loses():
    # claims judged against their Monte Carlo error (binomial SE of a coverage over R replications): with
    # 150 replications the improvement (about 0.05 with 12 villages, which under-cover even when resampled)
    # was within the noise, so a fixed +0.05 margin passed or failed with the random stream
    R = 400
    kw = dict(replications=R, rng=3, gaps=-0.3, village_sd=0.4, compare=False, cfa_scores=None, workers=2)
    naive = sm.plan_simulate([120], **kw)
    clustered = sm.plan_simulate([120], test="bootstrap", bootstrap_method="percentile", n_resamples=299, cluster=True,
                                 **kw)
    c_t, c_b = naive.by_n["ci_coverage"].iloc[0], clustered.by_n["ci_coverage"].iloc[0]
    se_t, se_b = np.sqrt(c_t * (1 - c_t) / R), np.sqrt(c_b * (1 - c_b) / R)
    assert c_t + 3 * se_t < 0.95  # the t interval under-covers when villages share effects
    assert c_b - c_t > 2 * np.hypot(se_t, se_b)  # the cluster bootstrap covers more, beyond Monte Carlo error


# ---------------------------------------------------------------------------- no internal errors from the command line
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_NUM = st.sampled_from(["0", "1", "-1", "0.05", "0.08", "0.5", "1e308", "-1e-300", "1e-9", "2", "nan", "abc", "0.999"])
_INT = st.sampled_from(["0", "1", "2", "3", "30", "265", "100000", "100001", "9999999999999", "-4", "x"])


@st.composite
def _plan_calls(draw):
    kind = draw(st.sampled_from(["rmsea", "rmsea-nested", "gap"]))
    opts = {
        "rmsea": [("--df", _INT), ("--n", _INT), ("--power", _NUM), ("--rmsea0", _NUM), ("--rmsea-a", _NUM),
                  ("--alpha", _NUM), ("--n-groups", _INT)],
        "rmsea-nested": [("--df-a", _INT), ("--df-b", _INT), ("--rmsea1-a", _NUM), ("--rmsea1-b", _NUM),
                         ("--rmsea0-a", _NUM), ("--rmsea0-b", _NUM), ("--n", _INT), ("--power", _NUM)],
        "gap": [("--half-width", _NUM), ("--sd", _NUM), ("--icc", _NUM), ("--cluster-size", _INT),
                ("--n-clusters", _INT), ("--confidence-level", _NUM)],
    }[kind]
    argv = ["plan", kind]
    for flag, values in opts:
        if draw(st.booleans()):
            argv += [flag, draw(values)]
    return argv + ["--json"]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(argv=_plan_calls())
def test_plan_cli_never_fails_internally(argv):
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    assert code in (0, 2), (argv, err.getvalue())
    if code == 2:
        assert err.getvalue().count("\n") == 1 and err.getvalue().startswith("servmodels: error:"), argv
    else:
        json.loads(out.getvalue())
