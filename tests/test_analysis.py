"""analyze(): every analysis once, with the standalone commands' defaults, failures and warnings kept."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import servmodels as sm
from servmodels.analysis import ANALYSES, DEFAULT_RESAMPLES, analyze


@pytest.fixture(scope="module")
def example_analysis():
    data = sm.read_survey(sm.example_path(), outcome="satisfaction", groups=["village"])
    return data, analyze(data, seed=3, analyses=["scores", "bootstrap", "items", "reliability", "ipa"])


def test_same_numbers_as_the_standalone_analyses(example_analysis):
    data, a = example_analysis
    boot = sm.gap_bootstrap(data, n_resamples=DEFAULT_RESAMPLES["bootstrap"], rng=3)
    val = sm.validity(data, scores="P", n_resamples=DEFAULT_RESAMPLES["reliability"], rng=3, bootstrap_cfa=False)
    ipa = sm.ipa(data, n_resamples=DEFAULT_RESAMPLES["ipa"], rng=3)
    # identical computations with the same seed: equal to the last bit
    dims = next(t.frame for t in a.tables() if t.key == "dimensions")
    ref = boot.table[boot.table.level == "dimension"]
    np.testing.assert_array_equal(dims["ci_low"].to_numpy(), ref["ci_low"].to_numpy())
    np.testing.assert_array_equal(dims["ci_high"].to_numpy(), ref["ci_high"].to_numpy())
    rel = next(t.frame for t in a.tables() if t.key == "reliability").set_index("dimension")
    for c in ("alpha", "alpha_ci_low", "alpha_ci_high", "omega"):
        np.testing.assert_array_equal(rel[c].to_numpy(), val.dimensions[c].to_numpy())
    assert a["ipa"].table.equals(ipa.table)
    assert a.provenance["n_resamples"] == {"bootstrap": 2000, "reliability": 1000, "ipa": 1000}


def test_provenance_and_json(example_analysis, tmp_path):
    import hashlib

    _, a = example_analysis
    p = a.provenance
    assert p["input_sha256"] == hashlib.sha256(sm.example_path().read_bytes()).hexdigest()
    assert p["servmodels_version"] == sm.__version__ and p["seed"] == 3
    assert (p["n_respondents"], p["n_dropped"]) == (100, 0)
    doc = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert [t["key"] for t in doc["tables"]][:3] == ["sample", "items", "dimensions"]
    assert doc["analyses"]["bootstrap"]["status"] == "ok"
    assert set(doc["analyses"]) == {"scores", "bootstrap", "items", "reliability", "ipa"}


def test_not_applicable_analyses_are_listed_with_the_reason():
    data = sm.read_survey(sm.example_path(), score_sets=["P"])
    a = analyze(data, n_resamples=20, analyses=["scores", "bootstrap", "compare", "ipa"])
    assert a.skipped == {"bootstrap": "needs expectation (E) and perception (P) answers",
                         "compare": "needs expectation (E) and perception (P) answers and an outcome column",
                         "ipa": "needs expectation (E) and perception (P) answers"}
    assert a.failed == {}
    with pytest.raises(KeyError, match="bootstrap: needs expectation"):
        a["bootstrap"]


def test_a_failing_analysis_is_recorded_not_hidden():
    df = sm.load_example()
    df["P3"] = 2  # a constant item: correlations undefined
    with pytest.warns(sm.ConstantItemWarning):
        data = sm.read_survey(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = analyze(data, n_resamples=20, analyses=["scores", "reliability", "cfa"])
    assert a.get("scores") is not None
    assert set(a.failed) >= {"cfa"}
    assert "P3" in a.failed["cfa"]


def test_bad_arguments():
    data = sm.read_survey(sm.example_path())
    with pytest.raises(sm.ParameterError, match="analyses"):
        analyze(data, analyses=["nope"])
    with pytest.raises(sm.ParameterError, match="n_resamples"):
        analyze(data, n_resamples={"cfa": 10})
    assert ANALYSES[0] == "scores"


def _small_grouped():
    """Six perception items in two dimensions, two groups of 150 (simulated): invariance fits in a blink."""
    inst = sm.Instrument("small", {"speed": ["1", "2", "3"], "care": ["4", "5", "6"]}, scale=(1, 5), score_sets=["P"])
    df = sm.simulate_servqual(300, instrument=inst, rng=5)
    df["sex"] = np.where(np.arange(300) % 2 == 0, "f", "m")
    return inst, df


def test_optional_invariance_and_ikm_are_the_standalone_results():
    from servmodels.analysis import OPTIONAL_ANALYSES

    assert OPTIONAL_ANALYSES == ("invariance", "ikm")
    inst, df = _small_grouped()
    data = sm.read_survey(df, inst, groups=["sex"])
    a = analyze(data, seed=4, n_resamples=30, analyses=["scores", "invariance", "ikm"])
    assert list(a.steps) == ["scores", "invariance", "ikm"] and a.skipped == {}
    inv = sm.measurement_invariance(data, group="sex", scores="P")
    assert a["invariance"].table.equals(inv.table)
    ikm = sm.ikm(data, n_resamples=30, rng=4)
    assert (a["ikm"].index, a["ikm"].ci_low, a["ikm"].ci_high) == (ikm.index, ikm.ci_low, ikm.ci_high)
    assert a.provenance["invariance_group"] == "sex" and a.provenance["n_resamples"] == {"ikm": 30}
    keys = [t.key for t in a.tables()]
    assert keys == ["sample", "items", "dimensions", "invariance", "ikm"]
    table = next(t for t in a.tables() if t.key == "invariance")
    assert table.frame["model"].tolist() == ["configural", "metric", "scalar", "strict"]
    np.testing.assert_array_equal(table.frame["chisq"].to_numpy(), inv.table["chisq"].to_numpy())
    # not applicable: no group column; two score sets for IKM
    data = sm.read_survey(sm.example_path())
    a = analyze(data, analyses=["invariance", "ikm"])
    assert a.skipped == {"invariance": "needs a group column (--group)",
                         "ikm": "needs a questionnaire answered once (the IKM elements, e.g. preset ikm9)"}
    with pytest.raises(sm.ParameterError, match="invariance_group"):
        analyze(data, analyses=["scores"], invariance_group="village")


def test_on_progress_and_the_score_dimensions_in_json():
    data = sm.read_survey(sm.example_path())
    seen = []
    a = analyze(data, n_resamples=10, analyses=["items", "scores"], on_progress=lambda *x: seen.append(x))
    assert seen == [("scores", 0, 2), ("items", 1, 2), ("", 2, 2)]
    assert a.to_dict()["dimensions"] == sm.score(data).to_dict()["dimensions"]


def test_report_command_analyses_option(tmp_path, capsys):
    from servmodels.cli import main

    assert main(["report", str(sm.example_path()), "--analyses", "scores,ikm", "--format", "md",
                 "--out", str(tmp_path), "--quiet"]) == 0
    doc = json.loads((tmp_path / "analysis.json").read_text())
    assert list(doc["analyses"]) == ["scores", "ikm"] and doc["analyses"]["ikm"]["status"] == "skipped"
    assert main(["report", str(sm.example_path()), "--analyses", "scores,nope", "--out", str(tmp_path)]) == 2
    assert "--analyses takes scores" in capsys.readouterr().err


def test_report_shows_the_largest_modification_indices_of_its_cfa(capsys):
    from servmodels.cli import main
    from servmodels.render.tables import prepare

    data = sm.read_survey(sm.example_path(), outcome="satisfaction", groups=["village"])
    a = analyze(data, seed=3, analyses=["cfa"])
    table = next(t for t in a.tables() if t.key == "cfa_modindices")
    # the report shows its CFA's ten largest score tests, the same as `cfa --modindices 10` (the score tests
    # themselves are tested against lavaan in test_cfa.py, test_fiml.py and test_wlsmv_diagnostics.py)
    assert main(["cfa", str(sm.example_path()), "--scores", "P", "--modindices", "10", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)["modification_indices"]
    assert list(table.frame["parameter"]) == [f"{r['lhs']} {r['op']} {r['rhs']}" for r in cli]
    np.testing.assert_allclose(table.frame["mi"], [r["mi"] for r in cli], rtol=1e-12)
    np.testing.assert_allclose(table.frame["epc"], [r["epc"] for r in cli], rtol=1e-12)
    top = a["cfa"].modification_indices.sort_values("mi").iloc[-1]
    assert table.frame["mi"].iloc[0] == top["mi"] and table.frame["mi"].is_monotonic_decreasing
    en, idn = prepare(table, "en"), prepare(table, "id")
    assert en.title.endswith("largest modification indices") and "3.84" in en.note
    assert idn.title.endswith("indeks modifikasi terbesar") and "3,84" in idn.note and "," in idn.rows[0][1]
