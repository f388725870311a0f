"""Start-up of the command line: what each command imports, and that the start-up measures change no number.

Times are measured by benchmarks/bench_startup.py, not here; these tests check the
import sets (subprocesses, each a fresh interpreter) and the machinery behind them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import servmodels as sm
from servmodels.cli import main

ROOT = Path(__file__).resolve().parents[1]
EX = str(sm.example_path())
SIM25 = str(ROOT / "tests" / "reference" / "data" / "sim25.csv")

#: modules no command below needs: each costs 0.1-1 s to import
NOT_NEEDED = ("statsmodels", "sklearn", "matplotlib", "factor_analyzer", "jinja2", "docx", "yaml", "tqdm", "numba")

_CODE = """
import contextlib, io, json, sys
import servmodels.cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = servmodels.cli.main({argv!r})
mods = sorted(m for m in sys.modules if m.split(".")[0] in {roots!r} or m.startswith("servmodels."))
print(json.dumps({{"code": code, "out": out.getvalue(), "modules": mods}}))
"""


def _imports(argv: list[str]) -> tuple[dict, set[str]]:
    roots = ("numpy", "pandas", "scipy", "servmodels", *NOT_NEEDED)
    proc = subprocess.run([sys.executable, "-c", _CODE.format(argv=argv, roots=roots)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["code"] == 0, doc
    return doc, set(doc["modules"])


def test_cfa_imports_neither_scipy_nor_the_other_estimators():
    doc, mods = _imports(["cfa", SIM25, "--scale", "1", "5", "--scores", "P", "--json"])
    assert json.loads(doc["out"])["converged"] is True
    assert {"numpy", "pandas", "servmodels.sem.ml"} <= mods
    # the normal and chi-square functions are computed without scipy; FIML, WLSMV (polychoric) and MLR are
    # imported only when chosen
    assert not [m for m in mods if m.split(".")[0] == "scipy"]
    assert not mods & {"servmodels.sem.fiml", "servmodels.sem.wlsmv", "servmodels.sem.mlr", "servmodels.polychoric"}
    assert not [m for m in mods if m.split(".")[0] in NOT_NEEDED]


@pytest.mark.parametrize("argv, absent", [
    (["validate", EX], ("scipy",)),
    (["score", EX, "--json"], ("scipy",)),
    (["items", EX, "--json"], ("scipy.optimize", "scipy.stats", "scipy.linalg")),
    (["reliability", EX, "--n-resamples", "20", "--json"], ("scipy.optimize", "scipy.stats")),
    (["bootstrap", EX, "--n-resamples", "50", "--json"], ("scipy.optimize", "scipy.stats")),
])
def test_each_command_imports_what_it_uses(argv, absent):
    _, mods = _imports(argv)
    assert not [m for m in mods if m.split(".")[0] in NOT_NEEDED]
    assert not [m for m in mods if any(m == a or m.startswith(a + ".") for a in absent)]


def test_ordinal_regression_does_not_import_statsmodels_api():
    _, mods = _imports(["regress", EX, "--outcome", "satisfaction", "--ordinal", "--json"])
    assert "statsmodels.api" not in mods  # the OLS branch's import (0.7 s)
    assert not [m for m in mods if m.split(".")[0] in ("sklearn", "matplotlib")]


def test_the_process_gives_the_numbers_of_an_in_process_call(capsys):
    # `python -m servmodels` pauses the garbage collector during start-up and fits with one BLAS thread;
    # in-process calls (main(argv)) do neither for start-up: the JSON is the same
    argv = ["cfa", SIM25, "--scale", "1", "5", "--scores", "P", "--json"]
    proc = subprocess.run([sys.executable, "-m", "servmodels", *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert main(argv) == 0
    assert json.loads(proc.stdout) == json.loads(capsys.readouterr().out)


def test_estimators_are_registered_without_importing_their_modules():
    code = """
import sys
from servmodels.sem import SEMOptions, get_estimator, registered
assert set(registered()) == {("ML", "listwise"), ("MLR", "listwise"), ("ML", "fiml"), ("MLR", "fiml"), ("WLSMV", "listwise")}
assert "servmodels.sem.wlsmv" not in sys.modules and "servmodels.sem.fiml" not in sys.modules
cls = get_estimator(SEMOptions(estimator="WLSMV"))
assert cls.__module__ == "servmodels.sem.wlsmv" and cls.name == "WLSMV", cls
assert get_estimator(SEMOptions(missing="fiml")).__module__ == "servmodels.sem.fiml"
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_fits_run_with_one_blas_thread_and_restore_the_count(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from servmodels.sem import ml

    seen = []
    evaluate = ml.evaluate

    def spy(*args, **kwargs):
        seen.append({i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"})
        return evaluate(*args, **kwargs)

    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
    monkeypatch.setattr(ml, "evaluate", spy)
    res = sm.cfa(sm.read_survey(SIM25, scale=(1, 5), score_sets=["P"]), scores="P")
    assert res.converged and seen and all(s == {1} for s in seen)
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info()] == before
    assert np.isfinite(res.fit["chisq"])
