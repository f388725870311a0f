"""Cluster-robust CFA and hierarchical omega: servmodels vs lavaan / psych (Rscript), same data, same run.

* ``cfa(..., estimator="MLR", cluster="village")`` against lavaan ``cfa(..., cluster = "village",
  estimator = "MLR")`` on the 25-item SERVQUAL model: the reference file (593 respondents, 30 villages)
  and a simulated survey of 10 000 respondents in 200 villages;
* ``omega_hierarchical`` against psych ``omega(nfactors = 5)``: psych::bfi (2 800 x 25, pairwise
  correlations) and a simulated survey of 100 000 respondents.

Each program is timed inside its own process (best of ``reps``; R with ``system.time``); the table
gives the ratio servmodels / peer and the agreement of the headline statistic.

Usage: ``python benchmarks/bench_cluster_omega.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best_of  # benchmarks/ is on sys.path

import servmodels as sm
from servmodels.omega import omega_hierarchical
from servmodels.sem import cfa, instrument_model

HERE = Path(__file__).parent
DATA = HERE / "data"
REF = HERE.parent / "tests" / "reference" / "data"
INST = sm.get_instrument("servqual25").with_scale(1, 5)
MODEL = instrument_model(INST, scores="P")
COLS = list(INST.columns("P"))

R_CLUSTER = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); model <- readLines(args[2]); reps <- as.integer(args[3])
fit <- function() cfa(model, data = d, cluster = "village", estimator = "MLR")
t <- min(sapply(seq_len(reps), function(i) system.time(fit())[["elapsed"]]))
cat(sprintf('{"time": %.6f, "chisq_scaled": %.12f}\n', t, fitMeasures(fit(), "chisq.scaled")))
"""

R_OMEGA = r"""
suppressPackageStartupMessages({ library(psych); library(GPArotation) })
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2]); nf <- as.integer(args[3])
fit <- function() omega(d, nfactors = nf, plot = FALSE)
t <- min(sapply(seq_len(reps), function(i) system.time(fit())[["elapsed"]]))
cat(sprintf('{"time": %.6f, "omega_h": %.12f}\n', t, fit()$omega_h))
"""


def _rscript(code: str, *args: str) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(code)
        proc = subprocess.run(["Rscript", str(script), *args], capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        return json.loads(proc.stdout.strip().splitlines()[-1])


def cluster_dataset(n: int, n_clusters: int) -> Path:
    """Simulated survey with village effects (rng fixed), written once."""
    DATA.mkdir(exist_ok=True)
    path = DATA / f"servqual25_cluster_{n}_{n_clusters}.csv"
    if not path.exists():
        villages = {f"V{v:03d}": n // n_clusters + (v < n % n_clusters) for v in range(n_clusters)}
        df = sm.simulate_servqual(n, instrument=INST, rng=n, loading=0.65, villages=villages)
        df[["village", *COLS]].to_csv(path, index=False)
    return path


def run_cluster(cases, reps: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.lav"
        model.write_text(MODEL + "\n")
        for label, path in cases:
            df = pd.read_csv(path)
            res = cfa(df, MODEL, estimator="MLR", cluster="village")
            row = {"case": label, "n": len(df), "clusters": int(df["village"].nunique()),
                   "servmodels_s": best_of(lambda df=df: cfa(df, MODEL, estimator="MLR", cluster="village"), reps),
                   "servmodels_stat": res.fit["chisq_scaled"]}
            peer = _rscript(R_CLUSTER, str(path), str(model), str(reps))
            if peer:
                row["peer_s"], row["peer_stat"] = peer["time"], peer["chisq_scaled"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def run_omega(cases, reps: int) -> list[dict]:
    rows = []
    for label, frame, data in cases:
        res = omega_hierarchical(data, n_factors=5)
        row = {"case": label, "n": len(frame), "servmodels_s": best_of(lambda data=data: omega_hierarchical(data, n_factors=5), reps),
               "servmodels_stat": res.omega_h}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "items.csv"
            frame.to_csv(path, index=False)
            peer = _rscript(R_OMEGA, str(path), str(reps), "5")
        if peer:
            row["peer_s"], row["peer_stat"] = peer["time"], peer["omega_h"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def markdown(cluster_rows: list[dict], omega_rows: list[dict]) -> str:
    lines = [
        "## Villages as clusters and hierarchical omega (`benchmarks/bench_cluster_omega.py`)",
        "",
        "One fit inside a running process, best of 3. Cluster-robust MLR CFA (25 items, five factors) against",
        "lavaan `cfa(cluster = \"village\", estimator = \"MLR\")`; Schmid-Leiman omega (5 group factors) against",
        "psych `omega(nfactors = 5)`.",
        "",
        "| analysis | data | n | servmodels s | peer s | servmodels / peer | statistic rel. diff. |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, rows, peer, stat in (("cluster MLR CFA", cluster_rows, "lavaan", "scaled chi2"),
                                   ("omega_h (Schmid-Leiman)", omega_rows, "psych", "omega_h")):
        for r in rows:
            p = r.get("peer_s", np.nan)
            diff = abs(r["servmodels_stat"] - r.get("peer_stat", np.nan)) / abs(r.get("peer_stat", np.nan))
            lines.append(f"| {name} | {r['case']} | {r['n']:,} | {r['servmodels_s']:.3f} | {p:.3f} | "
                         f"{r['servmodels_s'] / p:.2f} | {diff:.1e} ({stat}, {peer}) |")
    lines.append("")
    return "\n".join(lines)


def run(quick: bool = False) -> str:
    reps = 2 if quick else 3
    cases = [("sim25_cluster.csv (30 villages)", REF / "sim25_cluster.csv")]
    if not quick:
        cases.append(("simulated, 200 villages", cluster_dataset(10_000, 200)))
    crow = run_cluster(cases, reps)
    bfi = pd.read_csv(REF / "bfi.csv").iloc[:, :25]
    inst = sm.get_instrument(HERE.parent / "tests" / "reference" / "instruments" / "bfi.json")
    import dataclasses

    raw = dataclasses.replace(inst, reverse=())
    ocases = [("psych::bfi (pairwise)", bfi, sm.read_survey(bfi, raw, nan_policy="fiml", check_keys=False))]
    if not quick:
        big = sm.simulate_servqual(100_000, instrument=INST, rng=5, loading=0.65)[COLS]
        ocases.append(("simulated SERVQUAL P items", big, sm.read_survey(big, INST, score_sets=["P"])))
    orow = run_omega(ocases, reps)
    return markdown(crow, orow)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    print(run(parser.parse_args().quick))
