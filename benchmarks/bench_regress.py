"""Ordinal (proportional-odds) logit: servmodels vs ``MASS::polr`` (Rscript), same data, same run.

Data: psych's bfi (``tests/reference/data/bfi.csv``, 2 800 x 25 Likert answers with missing values); the
outcome is item A1 (6 levels), the predictors the five trait scores of
``tests/reference/instruments/bfi.json`` (reverse-keyed items recoded 7 - x, trait = item mean);
respondents with a missing answer are dropped (2 436 used).

* in process: ``regress(data, ordinal=True)`` on data already read (estimates, SEs, thresholds, fit),
  best of k; ``polr(y ~ ., Hess = TRUE)`` timed inside R with ``system.time``, best of k;
* whole process: ``servmodels regress FILE --instrument I --nan-policy omit --outcome A1 --ordinal --json``
  against ``Rscript`` loading MASS, reading the CSV, recoding, fitting and printing ``summary(polr)``;
  the two alternate, best of k;
* the largest relative difference of the estimates and SEs from polr's (default tolerance).

Run ``python benchmarks/bench_regress.py``; ``run.py`` calls :func:`run` and :func:`markdown`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import best_of, process_seconds, repo_env  # benchmarks/ is on sys.path

HERE = Path(__file__).parent
ROOT = HERE.parent
BFI = ROOT / "tests" / "reference" / "data" / "bfi.csv"
INST = ROOT / "tests" / "reference" / "instruments" / "bfi.json"
OUTCOME = "A1"

R_PREP = r"""
d <- read.csv(args[1])
traits <- list(agreeableness = paste0("A", 1:5), conscientiousness = paste0("C", 1:5),
               extraversion = paste0("E", 1:5), neuroticism = paste0("N", 1:5), openness = paste0("O", 1:5))
items <- d[, unlist(traits)]
for (r in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) items[[r]] <- 7 - items[[r]]
bd <- data.frame(y = factor(d$A1, ordered = TRUE), sapply(traits, function(k) rowMeans(items[, k])))
bd <- bd[complete.cases(bd), ]
"""

R_INPROCESS = "suppressPackageStartupMessages(library(MASS))\nargs <- commandArgs(trailingOnly = TRUE)\n" + R_PREP + r"""
reps <- as.integer(args[2])
t <- min(sapply(seq_len(reps), function(i) system.time(polr(y ~ ., data = bd, Hess = TRUE))[["elapsed"]]))
m <- polr(y ~ ., data = bd, Hess = TRUE)
cat(sprintf('{"time": %.6f, "est": [%s], "se": [%s]}\n', t, paste(sprintf("%.15g", c(coef(m), m$zeta)), collapse = ","),
    paste(sprintf("%.15g", sqrt(diag(vcov(m)))), collapse = ",")))
"""

R_PROCESS = "suppressPackageStartupMessages(library(MASS))\nargs <- commandArgs(trailingOnly = TRUE)\n" + R_PREP + r"""
print(summary(polr(y ~ ., data = bd, Hess = TRUE)))
"""


def run(repeat: int = 7, process_repeat: int = 7) -> dict:
    import numpy as np

    import servmodels as sm
    from servmodels.regression import regress

    load_before = os.getloadavg()
    data = sm.read_survey(BFI, INST, outcome=OUTCOME, nan_policy="omit")
    res = regress(data, ordinal=True)
    row: dict = {"n": res.n_respondents, "levels": len(res.thresholds) + 1,
                 "servmodels_s": best_of(lambda: regress(data, ordinal=True), repeat),
                 "iterations": int(res.fit["iterations"])}
    ours_cmd = [sys.executable, "-m", "servmodels.cli", "regress", str(BFI), "--instrument", str(INST),
                "--nan-policy", "omit", "--outcome", OUTCOME, "--ordinal", "--json"]
    ours_p, peer_p = [], []
    have_r = shutil.which("Rscript") is not None
    with tempfile.TemporaryDirectory() as tmp:
        if have_r:
            script = Path(tmp) / "polr_inprocess.R"
            script.write_text(R_INPROCESS)
            proc = subprocess.run(["Rscript", str(script), str(BFI), str(repeat)], capture_output=True, text=True)
            if proc.returncode == 0:
                out = json.loads(proc.stdout.strip().splitlines()[-1])
                ours = np.concatenate([res.coefficients["estimate"], res.thresholds["estimate"]])
                se = np.concatenate([res.coefficients["se"], res.thresholds["se"]])
                row["polr_s"] = out["time"]
                row["max_rel_diff_estimate"] = float(np.max(np.abs(ours / np.array(out["est"]) - 1)))
                row["max_rel_diff_se"] = float(np.max(np.abs(se / np.array(out["se"]) - 1)))
            whole = Path(tmp) / "polr_process.R"
            whole.write_text(R_PROCESS)
        for _ in range(process_repeat):  # alternate, so that both see the same machine load
            ours_p.append(process_seconds(ours_cmd, repo_env()))
            if have_r:
                peer_p.append(process_seconds(["Rscript", str(whole), str(BFI)], repo_env()))
    row["servmodels_process_s"] = min(ours_p)
    if peer_p:
        row["polr_process_s"] = min(peer_p)
    row["load_avg"] = [round(v, 2) for v in load_before + os.getloadavg()]
    print(json.dumps(row), flush=True)
    return row


def markdown(row: dict) -> str:
    nan = float("nan")
    ours, peer = row["servmodels_s"], row.get("polr_s", nan)
    ours_p, peer_p = row["servmodels_process_s"], row.get("polr_process_s", nan)
    lines = [
        "## Ordinal logit vs MASS::polr (`benchmarks/bench_regress.py`)",
        "",
        f"psych's bfi: item A1 ({row['levels']} levels) on the five trait scores, n = {row['n']:,} complete respondents.",
        "`fit` = one fit in a running process (best of 7; polr with `Hess = TRUE`, timed by `system.time`);",
        "`process` = the whole command (interpreter start, imports, reading the CSV, fit, output), best of 7,",
        "the two programs alternating. Load average (1, 5, 15 min) before and after: "
        + ", ".join(f"{v:.2f}" for v in row["load_avg"]) + ".",
        "",
        "| job | servmodels s | MASS::polr s | servmodels / polr |",
        "|---|---:|---:|---:|",
        f"| fit (Newton, {row['iterations']} iterations) | {ours:.4f} | {peer:.4f} | {ours / peer:.2f} |",
        f"| whole process (`servmodels regress ... --ordinal --json` vs `Rscript`) | {ours_p:.3f} | {peer_p:.3f} | "
        f"{ours_p / peer_p:.2f} |",
        "",
        f"Largest relative difference from polr (default tolerance): estimates {row.get('max_rel_diff_estimate', nan):.1e}, "
        f"SEs {row.get('max_rel_diff_se', nan):.1e}.",
        "",
        "Target (issue 16.2): within 3x `MASS::polr`, whole process included.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
