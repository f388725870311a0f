"""FIML CFA (missing answers): servmodels vs lavaan ``missing = "ml"`` (Rscript), same data, same run.

Data: psych::bfi (tests/reference/data/bfi.csv, 2 800 respondents x 25 six-point items, 87
missing-data patterns), the five-factor model A/C/E/N/O.  Cases: one group and two groups
(``gender``), ML and MLR, all 2 800 rows and the first 400 rows (two groups).

* ``fit``: one fit inside a running process, best of ``reps``: servmodels ``cfa`` (estimates,
  SEs, fit measures including the robust ones) and lavaan ``cfa`` timed with ``system.time``;
* ``process``: the whole process, best of ``process_reps``: ``python -m servmodels.cli cfa DATA
  --model-file M --missing fiml --json`` against ``Rscript`` loading lavaan, reading the CSV and
  fitting;
* the chi-square (scaled for MLR) of servmodels relative to lavaan's.

Usage: ``python benchmarks/bench_fiml.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best_of  # benchmarks/ is on sys.path

HERE = Path(__file__).parent
ROOT = HERE.parent
BFI = ROOT / "tests" / "reference" / "data" / "bfi.csv"
DATA = HERE / "data"
MODEL = "\n".join(f"{f} =~ " + " + ".join(f"{f}{i}" for i in range(1, 6)) for f in "ACENO")
# (label, estimator, group, rows)
CASES = [
    ("1 group", "ML", None, None),
    ("1 group", "MLR", None, None),
    ("2 groups", "ML", "gender", None),
    ("2 groups", "MLR", "gender", None),
    ("2 groups", "ML", "gender", 400),
    ("2 groups", "MLR", "gender", 400),
]

R_FIT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
model <- readLines(args[2])
reps <- as.integer(args[3])
est <- args[4]
grp <- if (args[5] == "-") NULL else args[5]
fitit <- function() cfa(model, data = d, missing = "ml", estimator = est, group = grp)
f <- fitit()
t <- min(sapply(seq_len(reps), function(i) system.time(fitit())[["elapsed"]]))
key <- if (est == "MLR") "chisq.scaled" else "chisq"
cat(sprintf('{"time": %.6f, "chisq": %.12f}\n', t, fitMeasures(f, key)))
"""


def data_file(rows: int | None) -> Path:
    if rows is None:
        return BFI
    DATA.mkdir(exist_ok=True)
    path = DATA / f"bfi_{rows}.csv"
    if not path.exists():
        pd.read_csv(BFI).iloc[:rows].to_csv(path, index=False)
    return path


def ours_process(path: Path, model: Path, est: str, group: str | None) -> list[str]:
    cmd = [sys.executable, "-m", "servmodels.cli", "cfa", str(path), "--model-file", str(model), "--missing", "fiml",
           "--json"]
    if est != "ML":
        cmd += ["--estimator", est]
    if group:
        cmd += ["--group", group]
    return cmd


def lavaan_process(path: Path, model: Path, est: str, group: str | None) -> list[str]:
    grp = f", group = '{group}'" if group else ""
    return ["Rscript", "-e", f"suppressPackageStartupMessages(library(lavaan)); d <- read.csv('{path}'); "
            f"invisible(cfa(readLines('{model}'), data = d, missing = 'ml', estimator = '{est}'{grp}))"]


def time_process(cmd: list[str], repeat: int, env: dict | None = None) -> float:
    def once() -> None:
        subprocess.run(cmd, check=True, capture_output=True, env=env)

    return best_of(once, repeat)


def run(reps: int = 3, process_reps: int = 2, cases=CASES) -> list[dict]:
    import servmodels as sm

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    have_r = shutil.which("Rscript") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "bfi.lav"
        model.write_text(MODEL + "\n")
        script = Path(tmp) / "fit.R"
        script.write_text(R_FIT)
        for label, est, group, nrows in cases:
            path = data_file(nrows)
            df = pd.read_csv(path)

            def fit(df=df, est=est, group=group):
                return sm.cfa(df, MODEL, missing="fiml", estimator=est, group=group)

            res = fit()
            key = "chisq_scaled" if est == "MLR" else "chisq"
            row = {"case": label, "estimator": est, "n": len(df), "patterns": int(pd.isna(df[[c for c in df.columns if c[0] in "ACENO"]]).drop_duplicates().shape[0]),
                   "servmodels_s": best_of(fit, reps), "servmodels_chisq": res.fit[key],
                   "servmodels_process_s": time_process(ours_process(path, model, est, group), process_reps, env)}
            if have_r:
                proc = subprocess.run(["Rscript", str(script), str(path), str(model), str(reps), est, group or "-"],
                                      capture_output=True, text=True)
                if proc.returncode == 0:
                    lav = json.loads(proc.stdout.strip().splitlines()[-1])
                    row["lavaan_s"], row["lavaan_chisq"] = lav["time"], lav["chisq"]
                    row["lavaan_process_s"] = time_process(lavaan_process(path, model, est, group), process_reps)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def load() -> str:
    try:
        return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "load average unknown"


def markdown(rows: list[dict]) -> str:
    lines = [
        "## FIML CFA: missing answers (`benchmarks/bench_fiml.py`)",
        "",
        "psych::bfi (25 six-point items, 87 missing-data patterns), five factors A/C/E/N/O; lavaan",
        "`cfa(..., missing = \"ml\")` in the same run. `fit` = one fit in a running process (best of 3);",
        "`process` = `python -m servmodels.cli cfa DATA --model-file M --missing fiml --json` against `Rscript`",
        "loading lavaan, reading the CSV and fitting (best of 2). chi2 (scaled for MLR) relative to lavaan's.",
        f"Measured with {load()}.",
        "",
        "| case | estimator | n | servmodels fit s | lavaan fit s | fit ratio | servmodels process s | lavaan process s | process ratio | chi2 rel. diff. |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lav, lavp = r.get("lavaan_s", np.nan), r.get("lavaan_process_s", np.nan)
        lchi = r.get("lavaan_chisq", np.nan)
        lines.append(
            f"| {r['case']} | {r['estimator']} | {r['n']:,} | {r['servmodels_s']:.3f} | {lav:.3f} | "
            f"{r['servmodels_s'] / lav:.2f} | {r['servmodels_process_s']:.2f} | {lavp:.2f} | "
            f"{r['servmodels_process_s'] / lavp:.2f} | {abs(r['servmodels_chisq'] - lchi) / lchi:.1e} |"
        )
    lines += ["", "Targets (issue 16): fit at most 0.5x lavaan's fit time; the single-group ML process at most",
              "0.6x lavaan's process.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="first and last case only, one repetition")
    args = parser.parse_args()
    cases = [CASES[0], CASES[-1]] if args.quick else CASES
    print(markdown(run(reps=1 if args.quick else 3, process_reps=1 if args.quick else 2, cases=cases)))
