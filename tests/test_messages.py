"""Messages that help (issue 14, part 4).

* An error line of the CLI names at most the first five problems, counts the rest and
  says how to see them all; it is one line of at most 600 characters for any bad file.
* ``validate`` lists every problem (text and JSON) and warns about item sets whose
  covariance matrix is singular, naming the cause, before any model is fitted.
* A singular covariance names its cause (constant, identical, perfectly correlated or
  collinear items; no more respondents than items) wherever it stops an analysis.
* Model syntax errors name the undefined variable and its line.

Damaged files are built from the bundled example (columns E1..E25, P1..P25, scale
1-4); the expected counts are computed here from the damage, not read from the code.
"""

import json
import re
import string
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import servmodels as sm
from servmodels._exceptions import MAX_PROBLEMS_IN_STR, Problem
from servmodels._numerics import diagnose, item_diagnostics
from servmodels.cli import main

E_COLS = [f"E{i}" for i in range(1, 26)]
P_COLS = [f"P{i}" for i in range(1, 26)]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def error_line(err: str) -> str:
    """The one error line, checked against the CLI contract."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("servmodels: error: "), err
    assert len(lines[0]) <= 600, (len(lines[0]), lines[0])  # the bound, not the constant in cli.py
    return lines[0]


def example() -> pd.DataFrame:
    return sm.load_example().astype({c: object for c in E_COLS + P_COLS})


def write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False)
    return str(path)


# ----------------------------------------------------------------------------- many problems
def damage_many(df: pd.DataFrame) -> list[tuple[str, str]]:
    """One problem per damaged column, in the order validation checks columns (E then P)."""
    expected = []
    for i, col in enumerate(["E2", "E5", "E9"]):
        df.loc[[3, 10 + i], col] = "banyak"
        expected.append(("non_numeric", col))
    for col in ["E12", "E20"]:
        df.loc[:40, col] = 9
        expected.append(("out_of_range", col))
    for col in ["P1", "P4", "P8", "P15", "P22"]:
        df.loc[[1, 7], col] = 2.5
        expected.append(("non_integer", col))
    for col in P_COLS[-3:]:  # P23, P24, P25: missing answers (reported last, after the value checks)
        df.loc[[5, 6, 60], col] = np.nan
        expected.append(("missing_value", col))
    return expected


def test_cli_error_line_names_five_problems_and_counts_the_rest(tmp_path, capsys):
    df = example()
    expected = damage_many(df)
    path = write(df, tmp_path / "survey.csv")
    code, out, err = run(capsys, "score", path)
    assert code == 2 and out == ""
    line = error_line(err)
    n = len(expected)
    assert f"({n} problems)" in line
    assert f"and {n - 5} more (run `servmodels validate {path}` for all)" in line
    named = re.findall(r"'([EP]\d+)'", line)
    assert named == [c for _, c in expected[:5]]  # the first five, in order, and no other
    # the data options of the call are part of the validate command given
    code, _, err = run(capsys, "items", path, "--scores", "E", "--id", "respondent_id", "--scale", "1", "4")
    line = error_line(err)
    n_e = sum(c.startswith("E") for _, c in expected)  # items --scores E reads only the E items
    assert f"({n_e} problems)" in line and "more (run" not in line
    code, _, err = run(capsys, "items", path, "--scores", "P", "--id", "respondent_id", "--scale", "1", "4")
    n_p = n - n_e
    command = f"validate {path} --scores P --scale 1 4 --id respondent_id"
    assert f"and {n_p - 5} more (run `servmodels {command}` for all)" in error_line(err)
    # ... and that command lists exactly those problems
    code, out, _ = run(capsys, *command.split())
    assert code == 2 and sum(ln.startswith("  - ") for ln in out.splitlines()) == n_p


def test_python_message_is_bounded_and_problems_hold_everything(tmp_path):
    df = example()
    for col in E_COLS + P_COLS:  # 50 columns with text: 50 problems
        df.loc[[2, 4], col] = "x"
    with pytest.raises(sm.ValidationError) as ei:
        sm.read_survey(write(df, tmp_path / "s.csv"))
    exc = ei.value
    assert len(exc.problems) == 50
    assert [p.column for p in exc.problems] == E_COLS + P_COLS
    text = str(exc)
    assert "\n" not in text
    assert text.count("non-numeric text ('x')") == MAX_PROBLEMS_IN_STR
    assert f"and {50 - MAX_PROBLEMS_IN_STR} more (the .problems attribute lists all)" in text
    assert "'P1'" not in text  # problem 26 is counted, not named
    report = exc.report().splitlines()
    assert len(report) == 51 and report[-1] == "  - column 'P25': non-numeric text ('x') at rows 3, 5"


def test_validate_lists_every_problem_as_text_and_json(tmp_path, capsys):
    df = example()
    expected = damage_many(df)
    path = write(df, tmp_path / "survey.csv")
    n = len(expected)
    code, out, err = run(capsys, "validate", path)
    assert code == 2
    listed = [ln for ln in out.splitlines() if ln.startswith("  - ")]
    assert len(listed) == n
    assert [re.search(r"column '(\w+)'", ln).group(1) for ln in listed] == [c for _, c in expected]
    assert "--nan-policy omit" in out and "nan_policy=" not in out  # the CLI's spelling
    assert f"and {n - 5} more (all {n} are listed on stdout)" in error_line(err)

    code, out, err = run(capsys, "validate", path, "--json")
    assert code == 2
    doc = json.loads(out)
    assert doc["valid"] is False and doc["n_problems"] == n and doc["source"] == path
    assert [(p["kind"], p["column"]) for p in doc["problems"]] == expected
    missing = doc["problems"][-1]
    assert missing["rows"] == [6, 7, 61] and missing["n_rows"] == 3  # 0-based 5, 6, 60 -> 1-based rows
    big = doc["problems"][3]
    assert big["kind"] == "out_of_range" and big["n_rows"] == 41 and big["rows"] == [1, 2, 3, 4, 5]
    assert f"all {n} are listed in the JSON on stdout" in error_line(err)


def test_nan_policy_raise_with_many_missing_cells_is_one_short_line(tmp_path, capsys):
    df = example()
    rng = np.random.default_rng(5)
    for col in P_COLS:
        df.loc[rng.choice(100, size=rng.integers(1, 9), replace=False), col] = np.nan
    path = write(df, tmp_path / "gaps.csv")
    code, _, err = run(capsys, "cfa", path, "--nan-policy", "raise")
    assert code == 2
    line = error_line(err)
    assert "(25 problems)" in line and "and 20 more (run `servmodels validate" in line
    assert line.count("--nan-policy omit") == 1  # the advice once, for the five columns named
    assert re.findall(r"'(P\d+)'", line) == ["P1", "P2", "P3", "P4", "P5"]


def test_long_names_values_and_paths_are_elided(tmp_path, capsys):
    df = example()
    long_col = "how satisfied are you with " * 30 + "the service"
    df = df.rename(columns={"P3": long_col})
    df.loc[[0, 1], long_col] = "no answer because " * 300
    deep = tmp_path / ("d" * 200) / ("e" * 200)
    deep.mkdir(parents=True)
    path = write(df, deep / "survey.csv")
    code, _, err = run(capsys, "score", path, "--map", f"P3={long_col}")
    line = error_line(err)
    assert code == 2 and "non-numeric text" in line and "..." in line
    # the file does not exist: the path is shortened, not the message dropped
    code, _, err = run(capsys, "score", str(deep / ("f" * 200) / ("g" * 200) / "x.csv"))
    line = error_line(err)
    assert code == 2 and "no such file" in line


# ----------------------------------------------------------------------------- random damage
_COMMANDS = [["validate"], ["score"], ["items", "--scores", "gap"], ["validate", "--json"]]
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=3000)
_CELL = st.one_of(
    _TEXT.map(lambda t: "x" + t),  # text (never a number)
    st.integers(-10**12, 10**12).filter(lambda v: not 1 <= v <= 4),  # out of the 1-4 scale
    st.floats(allow_nan=False, allow_infinity=True).filter(lambda v: v != int(v) if np.isfinite(v) else True),
    st.just(np.nan),  # missing (an error with the default --nan-policy raise)
)
_STRUCTURAL = st.sampled_from(["none", "drop_column", "rename_long", "duplicate_header", "no_rows"])


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    cells=st.lists(st.tuples(st.sampled_from(E_COLS + P_COLS), st.integers(0, 99), _CELL), min_size=1, max_size=400),
    structural=_STRUCTURAL,
    header=st.text(alphabet=string.printable, min_size=1, max_size=2000),
    command=st.sampled_from(_COMMANDS),
)
def test_any_damaged_file_gives_one_short_error_line(tmp_path_factory, capsys, cells, structural, header, command):
    df = example()
    for col, row, value in cells:
        df.loc[row, col] = value
    if structural == "drop_column":
        df = df.drop(columns=[cells[0][0]])
    elif structural == "rename_long":
        df = df.rename(columns={cells[0][0]: header + "_" + cells[0][0]})
    elif structural == "no_rows":
        df = df.iloc[:0]
    path = tmp_path_factory.mktemp("damaged") / "survey.csv"
    df.to_csv(path, index=False)
    if structural == "duplicate_header":
        text = path.read_text(encoding="utf-8")
        first, rest = text.split("\n", 1)
        path.write_text(first.replace("P2,", "P1,", 1) + "\n" + rest, encoding="utf-8")
    code = main([command[0], str(path), *command[1:]])
    out, err = capsys.readouterr()
    assert code == 2, err
    error_line(err)


# ----------------------------------------------------------------------------- singular item sets
def survey_with(df: pd.DataFrame, tmp_path, scale=(1, 4)) -> sm.SurveyData:
    # the same finding may become a SingularDataWarning at reading: the estimators are tested here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm.SingularDataWarning)
        warnings.simplefilter("ignore", sm.ReverseKeyWarning)  # 12 respondents: PC signs are noise
        return sm.read_survey(write(df, tmp_path / "s.csv"), scale=scale)


def test_diagnose_names_each_cause(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 7))
    cols = [f"x{j}" for j in range(1, 8)]
    assert diagnose(x, cols) == []
    x[:, 4] = x[:, 1]  # x5 copies x2
    x[:, 6] = x[:, 1]  # x7 too: one finding naming all three
    x[:, 5] = 2 * x[:, 0] + 3 * x[:, 2] - x[:, 3]  # x6 from x1, x3, x4 (not x2: a minimal set)
    found = diagnose(x, cols)
    assert [(f.kind, f.columns) for f in found] == [
        ("identical", ("x2", "x5", "x7")),
        ("collinear", ("x1", "x3", "x4", "x6")),
    ]
    y = rng.normal(size=(60, 3))
    y[:, 2] = 5 - 2 * y[:, 0]
    y[:, 1] = 7.0
    assert [(f.kind, f.columns, f.r) for f in diagnose(y, ["a", "b", "c"])] == [
        ("constant", ("b",), None), ("perfect", ("a", "c"), -1.0)]
    assert [(f.kind, f.n, f.p) for f in diagnose(rng.normal(size=(4, 6)), list("abcdef"))] == [("too_few", 4, 6)]
    # from a covariance matrix alone, identical and perfectly correlated cannot be told apart
    cov = np.cov(x, rowvar=False)
    assert {f.kind for f in diagnose(None, cols, cov=cov, n=60)} == {"perfect", "collinear"}


def test_item_diagnostics_messages(tmp_path):
    df = sm.load_example()
    assert item_diagnostics({"P": df[P_COLS].to_numpy()}, {"P": P_COLS}) == []
    df["P7"] = df["P3"]
    df["P10"] = 5 - df["P1"]
    x = df[P_COLS].to_numpy()
    msgs = item_diagnostics({"P": x, "E": df[E_COLS].to_numpy()}, {"P": P_COLS, "E": E_COLS})
    assert len(msgs) == 2 and all(m.startswith("score set P: ") for m in msgs)
    assert "items P1 and P10 are perfectly correlated (r = -1)" in msgs[0]
    assert "items P3 and P7 are identical" in msgs[1]
    assert all("covariance matrix of the P items is singular" in m for m in msgs)
    # too few respondents: as many as items, and fewer
    few = item_diagnostics({"E": df[E_COLS].to_numpy()[:25]}, {"E": E_COLS})
    assert few == [few[0]] and "as many respondents as items: 25 respondents for 25 variables" in few[0]
    few = item_diagnostics({"E": df[E_COLS].to_numpy()[:3]}, {"E": E_COLS})
    assert "fewer respondents than items: 3 respondents for 25 variables" in few[0]
    assert item_diagnostics({"E": df[E_COLS].to_numpy()[:2]}, {"E": E_COLS}) == []  # SmallSampleWarning's case
    # constant items only when asked (validate_survey warns about them itself)
    df["P12"] = 2
    assert not any("P12" in m for m in item_diagnostics({"P": df[P_COLS].to_numpy()}, {"P": P_COLS}))
    assert any("constant item P12" in m for m in item_diagnostics({"P": df[P_COLS].to_numpy()}, {"P": P_COLS},
                                                                    constant=True))
    # missing answers (nan_policy="fiml"): judged on the complete rows, and said so
    xf = df[P_COLS].to_numpy(dtype=float)
    xf[0, 0] = np.nan
    msgs = item_diagnostics({"P": xf}, {"P": P_COLS})
    assert any("P3 and P7 are identical" in m and "among the 99 respondents who answered every item" in m for m in msgs)


def test_validate_warns_about_singular_item_sets(tmp_path, capsys):
    df = sm.load_example()
    df["P7"] = df["P3"]
    df["E20"] = df["E16"] + df["E17"] - df["E18"]  # in range only on a wider scale
    path = write(df, tmp_path / "dup.csv")
    code, out, err = run(capsys, "validate", path, "--scale", "-10", "10")
    assert code == 0 and out.startswith("OK:") and "2 warnings" in out
    warned = [ln for ln in err.splitlines() if ln.startswith("servmodels: warning: ")]
    assert len(warned) == 2
    assert "score set E: items E16, E17, E18 and E20 are perfectly collinear" in warned[0]
    assert "score set P: items P3 and P7 are identical" in warned[1]
    code, out, err = run(capsys, "validate", path, "--scale", "-10", "10", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["valid"] is True and len(doc["warnings"]) == 2
    assert doc["warnings"][1].startswith("score set P: items P3 and P7 are identical")
    # a clean file: no warning
    code, out, err = run(capsys, "validate", str(sm.example_path()), "--json")
    assert code == 0 and json.loads(out)["warnings"] == [] and err == ""
    # fewer respondents than items
    code, out, err = run(capsys, "validate", write(sm.load_example().head(20), tmp_path / "small.csv"))
    assert code == 0 and err.count("fewer respondents than items: 20 respondents for 25 variables") == 2


def test_singular_data_warning_is_public():
    assert issubclass(sm.SingularDataWarning, sm.ServmodelsWarning)
    assert "SingularDataWarning" in sm.__all__


def test_estimators_name_the_cause(tmp_path, capsys):
    df = sm.load_example()
    df["P7"] = df["P3"]
    data = survey_with(df, tmp_path)
    for call in (lambda: sm.cfa(data), lambda: sm.efa(data, n_factors=5, n_iter=2),
                 lambda: sm.validity(data, n_resamples=0)):
        with pytest.raises(sm.NumericalError, match="items P3 and P7 are identical"):
            call()
    df = sm.load_example()
    df["P20"] = df["P16"] + df["P17"] - df["P18"]
    data = survey_with(df, tmp_path, scale=(-10, 10))
    with pytest.raises(sm.NumericalError, match="items P16, P17, P18 and P20 are perfectly collinear"):
        sm.cfa(data)
    data = survey_with(sm.load_example().head(12), tmp_path)
    with pytest.raises(sm.NumericalError, match="fewer respondents than items: 12 respondents for 25 variables"):
        sm.cfa(data)
    # a covariance matrix given directly
    cov = sm.load_example()[["P1", "P2", "P3"]].cov()
    cov.loc["P3"] = cov.loc["P2"]
    cov["P3"] = cov["P2"]
    with pytest.raises(sm.NumericalError, match="not positive definite: items P2 and P3 are identical or perfectly"):
        sm.cfa(model="f =~ P1 + P2 + P3", sample_cov=cov, n_obs=100)
    # the CLI: one line naming the cause
    df = sm.load_example()
    df["P9"] = df["P2"]
    code, _, err = run(capsys, "cfa", write(df, tmp_path / "d.csv"))
    assert code == 2 and "items P2 and P9 are identical" in error_line(err)


# ----------------------------------------------------------------------------- model syntax
def test_undefined_factor_names_itself_and_its_line(tmp_path, capsys):
    data = sm.read_survey(sm.example_path())
    model = "F1 =~ P1 + P2 + P3\nF2 =~ P4 + P5 + P6\nF1 ~~ F3"
    with pytest.raises(sm.ModelSpecificationError) as ei:
        sm.cfa(data, model)
    msg = str(ei.value)
    assert msg.startswith("line 3: unknown variable 'F3': neither a factor defined with =~ (F1, F2) nor a column")
    assert "P1..P25" in msg and "covariance between a latent" not in msg
    path = tmp_path / "model.lav"
    path.write_text(model)
    code, _, err = run(capsys, "cfa", sm.example_path(), "--model-file", path)
    line = error_line(err)
    assert code == 2 and "line 3: unknown variable 'F3'" in line
    assert "E1..E25, P1..P25, satisfaction" in line  # the columns of the file, compactly


def test_undefined_indicator_names_itself_its_line_and_a_close_column():
    df = sm.load_example()
    with pytest.raises(sm.ModelSpecificationError, match=r"^line 2: unknown variable 'P99'.*did you mean 'P9'\?"):
        sm.cfa(df, "F1 =~ P1 + P2 + P3\nF2 =~ P4 + P5 +\n  P99")
    with pytest.raises(sm.ModelSpecificationError, match=r"'Q1'.*also unknown: 'Q2' \(line 2\), 'Q3' \(line 3\)"):
        sm.cfa(df, "F1 =~ P1 + P2 + Q1\nF2 =~ P4 + Q2\nF1 ~~ Q3")
    # without data columns (a covariance matrix): the statement is still explained
    cov = df[["P1", "P2", "P3"]].cov()
    with pytest.raises(sm.ModelSpecificationError, match=r"line 2: 'F3' is not a factor defined with =~ \(factors: F1\)"):
        sm.cfa(model="F1 =~ P1 + P2 + P3\nF1 ~~ F3", sample_cov=cov, n_obs=100)


def test_legal_lavaan_syntax_is_unchanged():
    df = sm.load_example()
    # observed covariances and fixed/labelled terms are still fine, with the data's columns known
    res = sm.cfa(df, "F1 =~ P1 + a*P2 + a*P3 + P4\nP1 ~~ P2")
    assert res.fit["df"] == 4 * 5 / 2 - 8
    data = sm.read_survey(sm.example_path())
    with pytest.raises(sm.ParameterError):  # an unknown score set is still reported as such
        sm.cfa(data, "F =~ P1 + P2 + P3", scores="nope")


# ----------------------------------------------------------------------------- Problem rendering
def test_one_line_keeps_short_problems_whole_and_counts_honestly():
    probs = [Problem("out_of_range", f"P{i}", f"values outside the scale 1-4 ({i + 4})", tuple(range(1, 6)), 40)
             for i in range(1, 13)]
    exc = sm.ValidationError(probs, "x.csv")
    line = exc.one_line(5, max_chars=300, more="see all")
    assert len(line) <= 300 and line.endswith("more (see all)")
    n_named = len(re.findall(r"'P\d+'", line))
    assert 1 <= n_named <= 5 and f"and {12 - n_named} more" in line
    assert exc.one_line(12) == "; ".join([f"invalid survey data in x.csv (12 problems): {probs[0].message()}",
                                          *(p.message() for p in probs[1:])])
