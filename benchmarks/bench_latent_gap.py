"""Latent gap model: servmodels ``latent_gap`` vs lavaan (Rscript), same data, same run.

The model of docs/cfa.md (*Latent gap model*): 10 factors (E and P per dimension) on the 50 items of
servqual25 with correlated uniquenesses and a mean structure, fitted four times (configural, metric,
scalar, strict), plus the univariate score tests of the scalar model's 45 equality constraints
(``lavTestScore``).  servmodels: one ``latent_gap(..., n_resamples=0)`` call (the four fits, the
comparisons, the latent gaps and the score tests; best of ``reps``).  lavaan: the same four syntaxes
(written by ``latent_gap_model``) fitted with ``cfa(..., meanstructure = TRUE)`` at its default settings and
``lavTestScore`` on the scalar fit, timed inside R with ``system.time`` (best of ``reps``).  The chi-square
of every step is compared.

Run: ``python benchmarks/bench_latent_gap.py`` (prints the table; ``run.py`` includes it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from _timing import best_of  # noqa: E402 (benchmarks/ is on sys.path)

import servmodels as sm  # noqa: E402
from servmodels.sem import latent_gap, latent_gap_model  # noqa: E402

DATA = HERE / "data"
INST = sm.get_instrument("servqual25").with_scale(1, 5)
STEPS = ("configural", "metric", "scalar", "strict")

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
reps <- as.integer(args[2])
models <- lapply(args[3:6], function(f) paste(readLines(f), collapse = "\n"))
run <- function() {
  fits <- lapply(models, function(m) cfa(m, data = d, meanstructure = TRUE))
  st <- lavTestScore(fits[[3]])
  fits
}
fits <- run()
times <- sapply(seq_len(reps), function(i) system.time(run())[["elapsed"]])
cat(sprintf('{"time": %.6f, "chisq": [%s]}\n', min(times),
    paste(sprintf("%.10f", sapply(fits, function(f) fitMeasures(f, "chisq"))), collapse = ", ")))
"""


def dataset(n: int) -> Path:
    DATA.mkdir(exist_ok=True)
    path = DATA / f"servqual25_EP_{n}.csv"
    if not path.exists():
        df = sm.simulate_servqual(n, instrument=INST, rng=n, loading=0.65)
        df[list(INST.columns("E")) + list(INST.columns("P"))].to_csv(path, index=False)
    return path


def run_lavaan(path: Path, reps: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "gap.R"
        script.write_text(R_SCRIPT)
        files = []
        for step in STEPS:
            f = Path(tmp) / f"{step}.lav"
            f.write_text(latent_gap_model(INST, step) + "\n")
            files.append(str(f))
        proc = subprocess.run(["Rscript", str(script), str(path), str(reps), *files], capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return None
        return json.loads(proc.stdout.strip().splitlines()[-1])


def run(sizes=(600, 5_000), reps: int = 3) -> list[dict]:
    import warnings

    import pandas as pd

    rows = []
    for n in sizes:
        path = dataset(n)
        df = pd.read_csv(path)
        data = sm.read_survey(df, INST)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = latent_gap(data, n_resamples=0)
            t_ours = best_of(lambda data=data: latent_gap(data, n_resamples=0), reps)
        row = {"n": n, "servmodels_s": t_ours, "servmodels_chisq": res.invariance["chisq"].tolist(),
               "iterations": [res.fits[s].iterations for s in STEPS]}
        lav = run_lavaan(path, reps)
        if lav:
            row["lavaan_s"], row["lavaan_chisq"] = lav["time"], lav["chisq"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "## Latent gap model (`benchmarks/bench_latent_gap.py`)",
        "",
        "E and P factors of servqual25 jointly (10 factors, 50 items, mean structure): configural, metric, scalar",
        "and strict fits plus the score tests of the scalar model's equality constraints. servmodels: one",
        "`latent_gap(..., n_resamples=0)` call; lavaan: four `cfa(..., meanstructure = TRUE)` fits of the same",
        "syntax and `lavTestScore`, timed inside R. Best of 3.",
        "",
        "| n | servmodels s | lavaan s | servmodels / lavaan | max chi2 rel. diff. (4 steps) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lav = r.get("lavaan_s", np.nan)
        diff = (max(abs(a - b) / b for a, b in zip(r["servmodels_chisq"], r["lavaan_chisq"]))
                if "lavaan_chisq" in r else np.nan)
        lines.append(f"| {r['n']:,} | {r['servmodels_s']:.3f} | {lav:.3f} | {r['servmodels_s'] / lav:.2f} | {diff:.1e} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
