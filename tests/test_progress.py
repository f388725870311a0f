"""Progress bars on long work, and a CLI that starts without the numerical stack (issue 14, parts 5 and 6).

Bars only count work done anyway: the same seed gives the same numbers with and without them.
They go to stderr when asked for (API: ``progress=True``; CLI: stderr is a terminal and no
``--quiet``) and nothing is written otherwise.
"""

import ast
import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import servmodels as sm
from servmodels import _progress
from servmodels.cli import main
from servmodels.streaming import stream_score

ROOT = Path(sm.__file__).resolve().parents[1]
BAR = "%|"  # every tqdm bar with a known total draws "NN%|"


class FakeTTY(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def bars_at_once(monkeypatch):
    # bars normally wait DELAY seconds before appearing; the small runs here finish sooner
    monkeypatch.setattr(_progress, "DELAY", 0)


@pytest.fixture(scope="module")
def data():
    return sm.read_survey(sm.example_path(), outcome="satisfaction")


# ----------------------------------------------------------------------------- the API
def _frames(*frames):
    return [f for f in frames if f is not None]


CASES = {
    "gap_bootstrap": (lambda d, p: sm.gap_bootstrap(d, n_resamples=200, rng=3, batch_size=16, progress=p),
                      lambda r: _frames(r.table), "bootstrap", 200),
    "gap_bootstrap_studentized_cluster": (
        lambda d, p: sm.gap_bootstrap(sm.read_survey(sm.example_path(), groups=["village"]), method="studentized",
                                      cluster="village", n_resamples=60, rng=8, batch_size=7, progress=p),
        lambda r: _frames(r.table), "bootstrap", 60),
    "bootstrap": (lambda d, p: sm.bootstrap(lambda rows: rows.mean(axis=0), d.item_scores("gap")[:, :3], method="bca",
                                            n_resamples=50, rng=5, progress=p),
                  lambda r: _frames(r), "bootstrap", 50),
    "validity": (lambda d, p: sm.validity(d, n_resamples=30, rng=1, bootstrap_cfa=False, progress=p),
                 lambda r: _frames(r.dimensions, r.htmt_ci_low, r.htmt_ci_high), "reliability bootstrap", 30),
    "validity_cfa": (lambda d, p: sm.validity(d, n_resamples=3, rng=2, bootstrap_cfa=True, progress=p),
                     lambda r: _frames(r.dimensions), "reliability bootstrap", 3),
    "efa": (lambda d, p: sm.efa(d, n_iter=6, rng=2, progress=p),
            lambda r: _frames(r.eigenvalues, r.loadings), "parallel analysis", 6),
    "compare": (lambda d, p: sm.compare_servqual_servperf(d, n_repeats=3, n_resamples=20, rng=4, include_cfa=False,
                                                          progress=p),
                lambda r: [pd.DataFrame([json.dumps(r.to_dict(), sort_keys=True)])], "compare: cross-validation", 6),
    "relative_importance": (lambda d, p: sm.relative_importance(d, n_resamples=20, rng=5, progress=p),
                            lambda r: _frames(r.table), "bootstrap", 20),
    "stream_score": (lambda d, p: stream_score(sm.example_path(), chunk_rows=30, progress=p)[0],
                     lambda r: _frames(r.items, r.dimensions), "scoring bawang_synthetic.csv", None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_progress_changes_no_number_and_writes_only_when_asked(name, data, capsys):
    run, tables, desc, total = CASES[name]
    quiet = run(data, False)
    assert capsys.readouterr().err == ""  # progress=False (the library default): nothing on stderr
    shown = run(data, True)
    err = capsys.readouterr().err
    assert desc + ":" in err
    if total is not None:
        assert BAR in err and f"/{total} " in err
    else:  # a streamed file has no known total: a row counter
        assert "rows" in err
    for a, b in zip(tables(quiet), tables(shown), strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_library_default_is_off(data, capsys):
    sm.efa(data, n_iter=3, rng=0)
    assert capsys.readouterr().err == ""


def test_progress_flag_is_checked(data):
    with pytest.raises(sm.ParameterError, match="progress must be True or False"):
        sm.efa(data, n_iter=3, progress="yes")


def test_progress_follows_the_terminal_when_not_told(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    with _progress.progress(4, "work", None) as bar:
        bar.update(4)
    assert "work:" in tty.getvalue() and "/4 " in tty.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    with _progress.progress(4, "work", None) as bar:
        bar.update(4)
    assert isinstance(bar, _progress.Progress) and piped.getvalue() == ""


def test_bar_waits_before_appearing(monkeypatch):
    monkeypatch.setattr(_progress, "DELAY", 60)
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    with _progress.progress(4, "work", True) as bar:
        bar.update(4)
    assert tty.getvalue() == ""  # quick work leaves the terminal untouched


def test_gap_bootstrap_updates_once_per_batch(data, monkeypatch):
    steps = []

    class Recorder(_progress.Progress):
        def update(self, n=1):
            steps.append(n)

    module = importlib.import_module("servmodels.bootstrap")
    monkeypatch.setattr(module, "progress_bar", lambda *args, **kwargs: Recorder())
    sm.gap_bootstrap(data, n_resamples=100, rng=0, batch_size=30, progress=True)
    assert sorted(steps) == [10, 30, 30, 30]  # once per batch of 30 resamples, not per resample


# ----------------------------------------------------------------------------- the CLI
EX = str(sm.example_path())
COMMANDS = {
    "bootstrap": (["bootstrap", EX, "--n-resamples", "200"], "bootstrap"),
    "reliability": (["reliability", EX, "--n-resamples", "10"], "reliability bootstrap"),
    "efa": (["efa", EX, "--n-iter", "5"], "parallel analysis"),
    "compare": (["compare", EX, "--outcome", "satisfaction", "--n-resamples", "10", "--n-repeats", "2", "--no-cfa"],
                "compare: cross-validation"),
    "regress": (["regress", EX, "--outcome", "satisfaction", "--importance-ci", "10"], "bootstrap"),
    "stream": (["score", EX, "--stream", "--chunk-rows", "30"], "scoring bawang_synthetic.csv"),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_cli_bar_on_a_terminal_only(name, capsys, monkeypatch):
    argv, desc = COMMANDS[name]
    # piped (capsys is not a terminal): no bar
    assert main([*argv, "--json"]) == 0
    piped_out, piped_err = capsys.readouterr()
    assert desc + ":" not in piped_err and "\r" not in piped_err
    # a terminal: the bar, and the same JSON
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main([*argv, "--json"]) == 0
    assert desc + ":" in tty.getvalue()
    assert capsys.readouterr().out == piped_out
    # a terminal with --quiet: no bar
    quiet = FakeTTY()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main([*argv, "--json", "--quiet"]) == 0
    assert quiet.getvalue() == ""
    assert capsys.readouterr().out == piped_out


def test_cli_report_bar_on_a_terminal_only(tmp_path, capsys, monkeypatch):
    # a report takes seconds, so two runs: a terminal with and without --quiet (piped is the same rule as above)
    argv = ["report", EX, "--outcome", "satisfaction", "--n-resamples", "40", "--format", "md"]
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main([*argv, "--out", str(tmp_path / "tty")]) == 0
    from servmodels.analysis import ANALYSES

    assert "report:" in tty.getvalue() and f"/{len(ANALYSES)} " in tty.getvalue()  # one step per analysis
    assert "bootstrap:" in tty.getvalue() and "parallel analysis:" in tty.getvalue()  # and the bars inside them
    quiet = FakeTTY()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main([*argv, "--out", str(tmp_path / "quiet"), "--quiet"]) == 0
    assert quiet.getvalue() == ""
    def body(path):  # the report without its date line (two runs may straddle a minute)
        return [ln for ln in path.read_text().splitlines() if not ln.startswith("- **Date**")]

    assert body(tmp_path / "tty" / "report.md") == body(tmp_path / "quiet" / "report.md")


# ----------------------------------------------------------------------------- import-light start
HEAVY = ("numpy", "pandas", "scipy", "matplotlib", "statsmodels", "sklearn", "factor_analyzer", "tqdm")


def _run_python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


_CLI_CODE = """
import contextlib, io, json, sys
import servmodels.cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = servmodels.cli.main({argv!r})
    except SystemExit as exc:
        code = exc.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"code": code, "out": out.getvalue(), "heavy": heavy}}))
"""


@pytest.mark.parametrize("argv, expect", [
    (["--version"], "servmodels " + sm.__version__),
    (["--help"], "usage: servmodels"),
    (["cfa", "--help"], "--estimator"),
    (["bootstrap", "--help"], "--n-resamples"),
])
def test_version_and_help_do_not_import_the_numerical_stack(argv, expect):
    doc = json.loads(_run_python(_CLI_CODE.format(argv=argv, heavy=HEAVY)))
    assert doc["code"] == 0 and expect in doc["out"]
    assert doc["heavy"] == []


def test_score_imports_only_numpy_and_pandas():
    argv = ["score", str(sm.example_path()), "--json"]
    doc = json.loads(_run_python(_CLI_CODE.format(argv=argv, heavy=HEAVY)))
    assert doc["code"] == 0 and json.loads(doc["out"])["n_respondents"] == 100
    assert doc["heavy"] == ["numpy", "pandas"]  # no scipy, statsmodels, scikit-learn, matplotlib or tqdm


def test_import_servmodels_is_light_and_every_name_still_loads():
    code = f"""
import importlib, sys, types
import servmodels
assert servmodels.__version__ == {sm.__version__!r}
assert not [m for m in {HEAVY!r} if m in sys.modules], "import servmodels pulled the numerical stack"
# a submodule named like a public function does not replace the function once it is imported
import servmodels.bootstrap, servmodels.validity, servmodels.ipa, servmodels.ikm, servmodels.polychoric
from servmodels import bootstrap, validity, ipa, ikm, polychoric
for f in (bootstrap, validity, ipa, ikm, polychoric, servmodels.bootstrap, servmodels.validity):
    assert isinstance(f, types.FunctionType), f
for name in servmodels.__all__:
    if name != "__version__":
        source = importlib.import_module(servmodels._EXPORTS[name], "servmodels")
        assert getattr(servmodels, name) is getattr(source, name), name
assert set(servmodels.__all__) <= set(dir(servmodels))
assert servmodels.sem.SEMOptions is servmodels.SEMOptions  # submodules as attributes, as before
print("ok")
"""
    assert _run_python(code).strip() == "ok"


def test_from_servmodels_import_star_and_unknown_names():
    ns: dict = {}
    exec("from servmodels import *", ns)
    assert set(sm.__all__) <= set(ns)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        sm.no_such_name  # noqa: B018
    assert not hasattr(sm, "no.such")  # not a submodule look-up that raises ModuleNotFoundError


def test_lazy_table_matches_the_type_checking_imports():
    tree = ast.parse((ROOT / "servmodels" / "__init__.py").read_text())
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    typed = {a.name: "." + (n.module or "") for n in block.body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert typed == sm._EXPORTS
    assert set(sm.__all__) - {"__version__"} == set(sm._EXPORTS)


def test_cli_numbers_do_not_depend_on_the_lazy_imports(capsys):
    # the same command in a fresh interpreter (lazy path) and here (everything loaded) gives the same JSON
    argv = ["bootstrap", EX, "--n-resamples", "100", "--seed", "4", "--json"]
    fresh = json.loads(_run_python(_CLI_CODE.format(argv=argv, heavy=HEAVY)))["out"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(fresh)
