"""Every estimator accepts what a user has: SurveyData, a DataFrame or a path (issue 14, part 1).

The expected values are the same estimator on ``read_survey`` of the same input, and the CLI's JSON:
the conversion must not change a number.
"""

import json

import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main

EXAMPLE = sm.example_path()


def test_dataframe_and_path_equal_survey_data():
    df = pd.read_csv(EXAMPLE)
    direct = sm.score(sm.read_survey(df, "servqual25", scale=(1, 4)))
    assert sm.score(df, instrument="servqual25", scale=(1, 4)).to_dict() == direct.to_dict()
    assert sm.score(EXAMPLE, instrument="servqual25", scale=(1, 4)).dimensions.equals(direct.dimensions)


def test_item_analysis_from_a_path_equals_the_cli(capsys):
    res = sm.item_analysis(EXAMPLE, instrument="servqual25", scale=(1, 4), scores="P")
    assert main(["items", str(EXAMPLE), "--scale", "1", "4", "--scores", "P", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert json.loads(json.dumps(res.to_dict())) == cli


def test_groups_as_a_string_and_the_cli(capsys):
    res = sm.score(EXAMPLE, instrument="servqual25", scale=(1, 4), groups="village")
    assert res.n_respondents == 100
    data = sm.read_survey(EXAMPLE, groups="village")  # a string is one column, not its letters
    assert list(data.groups.columns) == ["village"]
    assert main(["score", str(EXAMPLE), "--scale", "1", "4", "--group", "village", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dimensions"] == json.loads(json.dumps(res.to_dict()))["dimensions"]


@pytest.mark.parametrize("call", [
    lambda d, **k: sm.item_analysis(d, scores="gap", **k),
    lambda d, **k: sm.validity(d, n_resamples=0, **k),
    lambda d, **k: sm.efa(d, n_factors=5, n_iter=2, **k),
    lambda d, **k: sm.regress(d, **k),
    lambda d, **k: sm.gap_bootstrap(d, n_resamples=50, rng=1, **k),
    lambda d, **k: sm.ipa(d, n_resamples=0, **k),
    lambda d, **k: sm.ordinal_reliability(d, **k),
], ids=["item_analysis", "validity", "efa", "regress", "gap_bootstrap", "ipa", "ordinal_reliability"])
def test_every_estimator_takes_a_dataframe(call):
    df = pd.read_csv(EXAMPLE)
    via_frame = call(df, scale=(1, 4), outcome="satisfaction")  # reading keywords go to read_survey
    assert via_frame.n_respondents == 100
    json.dumps(via_frame.to_dict(), allow_nan=False)


def test_regress_reads_the_outcome_from_a_dataframe():
    df = pd.read_csv(EXAMPLE)
    a = sm.regress(df, outcome="satisfaction", scale=(1, 4))
    b = sm.regress(sm.read_survey(df, scale=(1, 4), outcome="satisfaction"))
    assert a.to_dict() == b.to_dict()


def test_wrong_inputs_are_parameter_errors():
    with pytest.raises(sm.ParameterError, match="SurveyData.*DataFrame.*path"):
        sm.score(123)
    with pytest.raises(sm.ParameterError, match="source must be a file path or a pandas DataFrame"):
        sm.read_survey(123)
    with pytest.raises(sm.ParameterError, match="already validated"):
        sm.score(sm.read_survey(EXAMPLE), scale=(1, 5))
    with pytest.raises(sm.ParameterError, match="groups"):
        sm.read_survey(EXAMPLE, groups=5)


def test_bootstrap_text_output_follows_level(capsys):
    assert main(["bootstrap", str(EXAMPLE), "--scale", "1", "4", "--level", "dimension", "--n-resamples", "50"]) == 0
    out = capsys.readouterr().out
    assert "tangibles" in out and "gap17" not in out and " item " not in out
