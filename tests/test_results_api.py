"""Every public result shares one surface (issue 13): Result base class, to_frame(),
JSON-safe to_dict(), summary(), warnings, n_respondents and n_dropped; standard column
names; ParameterError for bad arguments; NumericalError naming the cause of a singular
matrix; and no ``raise ServmodelsError(`` outside the CFA files still being rewritten."""

from __future__ import annotations

import ast
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels._results import ESTIMATE_COLUMNS, Result
from servmodels.scoring import score_moments

#: column names replaced by the standard ones (ESTIMATE_COLUMNS); none may reappear
OLD_COLUMNS = {"pvalue", "p", "pval", "p.value", "lower", "upper", "ci_lower", "ci_upper", "lo", "hi", "coef", "lmg",
               "t", "tvalue", "t_value", "std_err", "stderr"}

SRC = Path(sm.__file__).parent


@pytest.fixture(scope="module")
def full():
    return sm.read_survey(sm.load_example(), outcome="satisfaction", groups=["village"])


@pytest.fixture(scope="module")
def dropped(tmp_path_factory):
    df = sm.load_example()
    df.loc[[2, 17, 40], "P5"] = np.nan
    df.loc[[60], "E9"] = np.nan
    path = tmp_path_factory.mktemp("omit") / "with_missing.csv"
    df.to_csv(path, index=False)
    data = sm.read_survey(path, outcome="satisfaction", groups=["village"], nan_policy="omit")
    assert data.n_dropped == 4
    return data


ANALYSES = {
    "score": lambda d: sm.score(d),
    "score_moments": lambda d: score_moments(d),
    "item_analysis": lambda d: sm.item_analysis(d, scores="P"),
    "cronbach_alpha": lambda d: sm.cronbach_alpha(d, scores="P"),
    "validity": lambda d: sm.validity(d, scores="P", n_resamples=50, rng=1, bootstrap_cfa=False),
    "efa": lambda d: sm.efa(d, n_factors=5, n_iter=10, rng=1),
    "regress": lambda d: sm.regress(d, scores="P"),
    "regress_ordinal": lambda d: sm.regress(d, scores="gap", ordinal=True),
    "relative_importance": lambda d: sm.relative_importance(d, n_resamples=50, rng=1),
    "compare": lambda d: sm.compare_servqual_servperf(d, n_resamples=50, n_repeats=2, rng=1, include_cfa=False),
    "gap_bootstrap": lambda d: sm.gap_bootstrap(d, n_resamples=50, rng=1),
    "ipa": lambda d: sm.ipa(d, n_resamples=50, rng=1),
    "ikm": lambda d: sm.ikm(d, n_resamples=50, rng=1),
    "ordinal_reliability": lambda d: sm.ordinal_reliability(d, scores="P"),
    "polychoric": lambda d: sm.polychoric(d, scores="P", nacov=False),
}


def _run(name, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ANALYSES[name](data)


@pytest.mark.parametrize("which", ["full", "dropped"])
@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_result_surface(name, which, request):
    data = request.getfixturevalue(which)
    res = _run(name, data)
    assert isinstance(res, Result)
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0
    doc = res.to_dict()
    assert isinstance(doc, dict)
    json.dumps(doc, allow_nan=False)
    text = res.summary()
    assert isinstance(text, str) and text.strip()
    assert isinstance(res.warnings, tuple) and all(isinstance(w, str) for w in res.warnings)
    assert res.n_respondents == data.n_respondents
    assert res.n_dropped == data.n_dropped
    assert not OLD_COLUMNS & {str(c) for c in frame.columns}


def _tables(res):
    """The frames a result holds besides to_frame() (attribute DataFrames)."""
    out = [res.to_frame()]
    for v in vars(res).values():
        if isinstance(v, pd.DataFrame):
            out.append(v)
        elif isinstance(v, Result):
            out.append(v.to_frame())
    return out


@pytest.mark.parametrize("name", sorted(ANALYSES))
def test_no_old_column_names_anywhere(name, full):
    for t in _tables(_run(name, full)):
        assert not OLD_COLUMNS & {str(c) for c in t.columns}, (name, list(t.columns))


def test_standard_estimate_columns(full):
    coefs = sm.regress(full, scores="P").coefficients
    assert {"estimate", "se", "p_value", "ci_low", "ci_high"} <= set(coefs.columns)
    boot = sm.gap_bootstrap(full, n_resamples=50, rng=1).table
    assert {"estimate", "se", "p_value", "ci_low", "ci_high"} <= set(boot.columns)
    imp = sm.relative_importance(full, n_resamples=50, rng=1).table
    assert {"estimate", "ci_low", "ci_high"} <= set(imp.columns)
    alpha = sm.cronbach_alpha(full).to_frame()
    assert {"estimate", "ci_low", "ci_high"} <= set(alpha.columns)
    # the order of the standard names is the one ESTIMATE_COLUMNS fixes
    present = [c for c in coefs.columns if c in ESTIMATE_COLUMNS]
    assert present == [c for c in ESTIMATE_COLUMNS if c in present]


def test_array_inputs_still_work():
    x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 3, 4], [2, 1, 2]])
    res = sm.cronbach_alpha(x)
    assert res.n_respondents == 5 and res.n_dropped == 0 and res.warnings == ()
    pc = sm.polychoric(sm.load_example()[["P1", "P2", "P3"]], nacov=False)
    assert pc.n_respondents == pc.n_obs == 100 and pc.n_dropped == 0


# ----------------------------------------------------------------------------- ParameterError
BAD_ARGUMENTS = [
    ("gap_bootstrap method", lambda d: sm.gap_bootstrap(d, method="jackknife"), "method"),
    ("gap_bootstrap n_resamples", lambda d: sm.gap_bootstrap(d, n_resamples=0), "n_resamples"),
    ("gap_bootstrap confidence_level", lambda d: sm.gap_bootstrap(d, confidence_level=95), "confidence_level"),
    ("gap_bootstrap adjust", lambda d: sm.gap_bootstrap(d, adjust="bonferroni"), "adjust"),
    ("gap_bootstrap cluster", lambda d: sm.gap_bootstrap(d, cluster="nope"), "cluster"),
    ("bootstrap method", lambda d: sm.bootstrap(np.mean, np.arange(5.0), method="studentized"), "method"),
    ("adjust_pvalues method", lambda d: sm.adjust_pvalues(np.array([0.1]), "bonferroni"), "method"),
    ("validity n_resamples", lambda d: sm.validity(d, n_resamples=-1), "n_resamples"),
    ("validity confidence_level", lambda d: sm.validity(d, n_resamples=0, confidence_level=0), "confidence_level"),
    ("efa n_factors", lambda d: sm.efa(d, n_factors=0), "n_factors"),
    ("efa rotation", lambda d: sm.efa(d, rotation="quartimax"), "rotation"),
    ("efa method", lambda d: sm.efa(d, method="pa"), "method"),
    ("regress cov_type", lambda d: sm.regress(d, cov_type="HC1"), "cov_type"),
    ("regress scores", lambda d: sm.regress(d, scores="X"), "scores"),
    ("regress cluster", lambda d: sm.regress(d, cov_type="cluster"), "cluster"),
    ("relative_importance n_resamples", lambda d: sm.relative_importance(d, n_resamples=-1), "n_resamples"),
    ("compare n_splits", lambda d: sm.compare_servqual_servperf(d, n_splits=1), "n_splits"),
    ("ipa importance", lambda d: sm.ipa(d, importance="stated"), "importance"),
    ("ipa n_resamples", lambda d: sm.ipa(d, n_resamples=-2), "n_resamples"),
    ("ikm n_resamples", lambda d: sm.ikm(d, n_resamples=1.5), "n_resamples"),
    ("ikm confidence_level", lambda d: sm.ikm(d, confidence_level=1.0), "confidence_level"),
    ("item_analysis confidence_level", lambda d: sm.item_analysis(d, confidence_level=1.5), "confidence_level"),
    ("item_analysis scores", lambda d: sm.item_analysis(d, scores="Q"), "scores"),
    ("critical_r n_respondents", lambda d: sm.critical_r(2), "n_respondents"),
    ("cronbach_alpha items", lambda d: sm.cronbach_alpha(np.ones(4)), "items"),
    ("score weights", lambda d: sm.score(d, weights="equal"), "weights"),
    ("polychoric max_iter", lambda d: sm.polychoric(d, max_iter=0), "max_iter"),
    ("simulate n_respondents", lambda d: sm.simulate_servqual(0), "n_respondents"),
    ("simulate loading", lambda d: sm.simulate_servqual(10, loading=1.0), "loading"),
    ("validate_survey nan_policy", lambda d: sm.validate_survey(sm.load_example(), nan_policy="drop"), "nan_policy"),
    ("validate_survey frame", lambda d: sm.validate_survey([[1, 2]]), "frame"),
]


@pytest.mark.parametrize("label, call, param", BAD_ARGUMENTS, ids=[b[0] for b in BAD_ARGUMENTS])
def test_bad_argument_raises_parameter_error(label, call, param, full):
    with pytest.raises(sm.ParameterError, match=param) as ei:
        call(full)
    assert isinstance(ei.value, ValueError) and isinstance(ei.value, sm.ServmodelsError)


def test_report_lang_is_checked(full, tmp_path):
    from servmodels.render import build_document, write_report

    a = sm.analyze(full, n_resamples=10, analyses=["scores"])
    with pytest.raises(sm.ParameterError, match="lang"):
        build_document(a, "fr")
    with pytest.raises(sm.ParameterError, match="lang"):
        write_report(a, tmp_path, ["md"], ["en", "fr"])
    with pytest.raises(sm.ParameterError, match="formats"):
        write_report(a, tmp_path, ["pdf"])


# ----------------------------------------------------------------------------- NumericalError
def _survey_with(change):
    df = sm.load_example()
    change(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.read_survey(df, outcome="satisfaction")


def test_identical_items_raise_numerical_error_naming_them():
    def dup(df):
        df["P2"] = df["P1"]

    data = _survey_with(dup)
    for call in (lambda: sm.efa(data, n_factors=5, n_iter=5), lambda: sm.validity(data, n_resamples=0)):
        with pytest.raises(sm.NumericalError, match="P1 and P2") as ei:
            call()
        assert isinstance(ei.value, ArithmeticError)


def test_constant_item_raises_numerical_error_naming_it():
    def const(df):
        df["P3"] = 3

    data = _survey_with(const)
    with pytest.raises(sm.NumericalError, match="constant item P3"):
        sm.efa(data, n_factors=5, n_iter=5)
    with pytest.raises(sm.NumericalError, match="P3"):
        sm.polychoric(data, scores="P", nacov=False)


def test_kmo_names_collinear_columns_and_fewer_respondents_than_items():
    from servmodels.validity import kmo

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    x = np.column_stack([x, x[:, 0] + x[:, 1]])
    with pytest.raises(sm.NumericalError, match="collinear"):
        kmo(x, ["a", "b", "c", "d"])
    with pytest.raises(sm.NumericalError, match="fewer respondents"):
        kmo(rng.normal(size=(3, 5)))


def test_collinear_dimension_scores_in_regression():
    def same(df):
        # the responsiveness items (P11-P15) copy the reliability ones (P6-P10)
        for a, b in zip(range(11, 16), range(6, 11)):
            df[f"P{a}"] = df[f"P{b}"]

    data = _survey_with(same)
    with pytest.raises(sm.NumericalError, match="reliability and responsiveness"):
        sm.regress(data, scores="P")


# ----------------------------------------------------------------------------- source scan
def _raises_of_root_class(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            f = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and func is None else func
            if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                target = child.exc.func
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
                if name == "ServmodelsError":
                    found.append((f, child.lineno))
            visit(child, f)

    visit(tree, None)
    return found


def test_root_error_class_is_never_raised():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for func, line in _raises_of_root_class(path):
            offenders.append(f"{rel}:{line} ({func})")
    assert not offenders, "raise a ServmodelsError subclass instead: " + ", ".join(offenders)


# ----------------------------------------------------------------------------- CLI
def test_cli_relative_importance_uses_standard_names_and_bad_arguments_exit_2(capsys):
    from servmodels.cli import main

    path = str(sm.example_path())
    assert main(["regress", path, "--outcome", "satisfaction", "--importance-ci", "20", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"coef", "se", "se_classical", "coefficients"} <= set(doc)  # documented keys kept
    assert {"dimension", "estimate", "share", "ci_low", "ci_high", "rank"} == set(doc["relative_importance"][0])
    assert main(["bootstrap", path, "--n-resamples", "1"]) == 2
    assert "--n-resamples must be >= 2" in capsys.readouterr().err
