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
