"""Validation: every bad input is reported with its column and 1-based rows."""

import warnings

import numpy as np
import pandas as pd
import pytest

import servmodels as sm

MINI = {"name": "mini", "dimensions": {"a": [1, 2], "b": [3]}, "score_sets": ["E", "P"], "scale": [1, 4]}


def frame(**over):
    base = {
        "E1": [3, 4, 2, 3], "E2": [4, 4, 3, 2], "E3": [3, 2, 4, 4],
        "P1": [2, 3, 2, 1], "P2": [3, 4, 1, 2], "P3": [1, 2, 3, 4],
    }
    base.update(over)
    return pd.DataFrame(base)


def problems(exc_info):
    return {(p.kind, p.column): p for p in exc_info.value.problems}


def test_valid_frame_passes():
    data = sm.validate_survey(frame(), MINI)
    assert data.n_respondents == 4 and data.n_dropped == 0
    assert data.responses["P"].dtype == np.int8 and not data.responses["P"].flags.writeable
    np.testing.assert_array_equal(data.rows, [1, 2, 3, 4])


def test_every_problem_is_reported_at_once():
    df = frame(P1=[2, 7, 2, 0], E2=[4, "x", 3, "4.0"], P3=[1, 2.5, 3, 4])
    df = df.drop(columns="E3")
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI)
    # missing columns are reported before values are inspected
    assert set(problems(ei)) == {("missing_column", "E3")}
    df = frame(P1=[2, 7, 2, 0], E2=[4, "x", 3, "4.0"], P3=[1, 2.5, 3, 4])
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI)
    found = problems(ei)
    assert found[("out_of_range", "P1")].rows == (2, 4)
    assert found[("non_numeric", "E2")].rows == (2,)
    assert found[("non_integer", "P3")].rows == (2,)
    assert ("missing_value", "E2") not in found  # a text cell is reported once, as text
    msg = str(ei.value)
    assert "\n" not in msg
    assert "column 'P1': values outside the scale 1-4 (7, 0) at rows 2, 4" in msg
    assert "column 'E2': non-numeric text ('x') at row 2" in msg
    assert "column 'P3': non-integer Likert values (2.5) at row 2" in msg
    assert set(ei.value.columns) == {"E2", "P1", "P3"}


def test_many_offenders_are_summarised_with_total_count():
    n = 40
    df = pd.DataFrame({c: np.full(n, 2) for c in ["E1", "E2", "E3", "P1", "P2", "P3"]})
    df.loc[5:, "P2"] = 9
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI)
    p = problems(ei)[("out_of_range", "P2")]
    assert p.n_rows == 35 and p.rows == (6, 7, 8, 9, 10)
    assert "rows 6, 7, 8, 9, 10 and 30 more" in str(ei.value)


def test_missing_columns_with_case_hint():
    df = frame().rename(columns={"P2": "p2"})
    with pytest.raises(sm.ValidationError, match=r"column 'P2': required column is missing \(found 'p2'"):
        sm.validate_survey(df, MINI)


def test_empty_frame():
    with pytest.raises(sm.ValidationError, match="no respondent rows"):
        sm.validate_survey(frame().iloc[:0], MINI)


def test_missing_values_raise_by_default_and_omit_counts_them():
    df = frame(P2=[3, None, 1, 2], E1=[3, 4, None, 2])
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI)
    found = problems(ei)
    assert found[("missing_value", "P2")].rows == (2,)
    assert found[("missing_value", "E1")].rows == (3,)
    with pytest.warns(sm.SmallSampleWarning):
        data = sm.validate_survey(df, MINI, nan_policy="omit")
    assert data.n_respondents == 2 and data.n_dropped == 2
    assert data.dropped_rows == (2, 3)
    np.testing.assert_array_equal(data.rows, [1, 4])
    res = sm.score(data)
    assert res.n_dropped == 2 and res.dropped_rows == (2, 3)


def test_blank_strings_are_missing_not_text():
    df = frame(P2=["3", " ", "1", "2"])
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI)
    assert ("missing_value", "P2") in problems(ei)
    assert ("non_numeric", "P2") not in problems(ei)


def test_all_rows_dropped_is_an_error():
    df = frame(P2=[None] * 4)
    with pytest.raises(sm.ValidationError, match="no respondent is left"):
        sm.validate_survey(df, MINI, nan_policy="omit")


def test_duplicate_ids_and_missing_ids():
    df = frame().assign(rid=["a", "b", "a", None])
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI, respondent_id="rid")
    found = problems(ei)
    assert found[("duplicate_id", "rid")].rows == (1, 3)
    assert found[("missing_value", "rid")].rows == (4,)


def test_constant_item_warns_and_is_recorded():
    df = frame(P3=[2, 2, 2, 2])
    with pytest.warns(sm.ConstantItemWarning, match="P3"):
        data = sm.validate_survey(df, MINI)
    assert any("P3" in w for w in data.warnings)


def test_outcome_groups_and_importance_checks():
    df = frame().assign(sat=[3, "good", 4, None], village=["x", "y", None, "x"])
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI, outcome="sat", groups=["village"])
    found = problems(ei)
    assert found[("non_numeric", "sat")].rows == (2,)
    assert found[("missing_value", "sat")].rows == (4,)  # row 2 is reported once, as text
    assert found[("missing_value", "village")].rows == (3,)
    df = frame().assign(wa=[50, -1, 0, 30], wb=[50, 101, 0, 70])
    with pytest.raises(sm.ValidationError) as ei:
        sm.validate_survey(df, MINI, importance={"a": "wa", "b": "wb"})
    found = problems(ei)
    assert found[("negative_weight", "wa")].rows == (2,)
    assert found[("zero_weights", None)].rows == (3,)


def test_nullable_and_float_integer_columns_are_accepted():
    df = frame(P1=pd.array([2, 3, 2, 1], dtype="Int64"), P2=[3.0, 4.0, 1.0, 2.0])
    data = sm.validate_survey(df, MINI)
    np.testing.assert_array_equal(data.responses["P"][:, 0], [2, 3, 2, 1])


def test_boolean_column_is_rejected():
    with pytest.raises(sm.ValidationError, match="true/false"):
        sm.validate_survey(frame(P1=[True, False, True, True]), MINI)


def test_row_offset_for_chunks():
    with pytest.raises(sm.ValidationError, match="at row 1002"):
        sm.validate_survey(frame(P1=[2, 9, 2, 1]), MINI, row_offset=1000)


def test_bad_nan_policy_and_type():
    with pytest.raises(sm.ServmodelsError, match="nan_policy"):
        sm.validate_survey(frame(), MINI, nan_policy="drop")
    with pytest.raises(sm.ServmodelsError, match="DataFrame"):
        sm.validate_survey(np.zeros((3, 3)), MINI)


def test_column_map_and_template():
    df = frame().rename(columns={"P1": "perf_q1"})
    data = sm.validate_survey(df, MINI, column_map={"P1": "perf_q1"})
    np.testing.assert_array_equal(data.responses["P"][:, 0], df["perf_q1"])
    inst = sm.get_instrument(MINI).with_columns(column_template="{set}_{item}")
    df2 = frame().rename(columns=lambda c: f"{c[0]}_{c[1:]}")
    assert sm.validate_survey(df2, inst).n_respondents == 4


# ---------------------------------------------------------------- file formats
@pytest.mark.parametrize("ext", [".csv", ".tsv", ".xlsx", ".parquet", ".sav", ".dta"])
def test_every_format_round_trips(tmp_path, ext):
    df = sm.load_example()
    path = tmp_path / f"survey{ext}"
    if ext == ".csv":
        df.to_csv(path, index=False)
    elif ext == ".tsv":
        df.to_csv(path, index=False, sep="\t")
    elif ext == ".xlsx":
        df.to_excel(path, index=False)
    elif ext == ".parquet":
        df.to_parquet(path)
    elif ext == ".sav":
        import pyreadstat

        labels = {f"P{i}": {1.0: "Tidak Puas", 2.0: "Kurang Puas", 3.0: "Puas", 4.0: "Sangat Puas"} for i in range(1, 26)}
        pyreadstat.write_sav(df, str(path), variable_value_labels=labels)
    else:
        df.to_stata(path, write_index=False)
    data = sm.read_survey(path, outcome="satisfaction", groups=["village"], respondent_id="respondent_id")
    ref = sm.read_survey(df)
    np.testing.assert_array_equal(data.responses["P"], ref.responses["P"])
    np.testing.assert_array_equal(data.responses["E"], ref.responses["E"])
    assert data.source == str(path)
    if ext == ".sav":
        assert data.metadata["value_labels"]["P1"]["4.0"] == "Sangat Puas"


def test_semicolon_csv(tmp_path):
    path = tmp_path / "semi.csv"
    sm.load_example().to_csv(path, index=False, sep=";")
    assert sm.read_survey(path).n_respondents == 100


def test_file_errors(tmp_path):
    with pytest.raises(sm.DataFileError, match="no such file"):
        sm.read_survey(tmp_path / "nope.csv")
    with pytest.raises(sm.DataFileError, match="unsupported file type .doc"):
        sm.read_survey(tmp_path / "x.doc")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(sm.ValidationError, match="empty"):
        sm.read_survey(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text(",".join(sm.load_example().columns) + "\n")
    with pytest.raises(sm.ValidationError, match="no respondent rows"):
        sm.read_survey(header_only)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(sm.DataFileError, match="Parquet"):
        sm.read_survey(broken)


def test_file_row_numbers_match_data_lines(tmp_path):
    df = sm.load_example()
    df.loc[41, "P9"] = 5  # data row 42, line 43 of the file
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    with pytest.raises(sm.ValidationError, match=r"bad.csv.*column 'P9'.*at row 42$"):
        sm.read_survey(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sm.read_survey(path, scale=(1, 5)).n_respondents == 100
