"""Exploratory factor analysis: servmodels ``efa`` vs psych ``fa`` and ``fa.parallel`` (Rscript), same run.

Data: psych's bfi (``tests/reference/data/bfi.csv``, 25 items, 1-6), reverse-keyed items recoded as in
``tests/reference/instruments/bfi.json``, respondents with a missing answer dropped (2 436 used).

* in process, five factors given (no parallel analysis): ``efa(data, n_factors=5, method=, rotation=)``
  (fit, rotation, eigenvalues, KMO, Bartlett, congruence) against ``psych::fa(X, 5, fm=, rotate=)``
  timed inside R with ``system.time``; best of k each;
* in process, number of factors from parallel analysis: ``efa(data, n_iter=20)`` (psych's default
  number of random data sets) and ``efa(data)`` (ours, 100) against ``fa.parallel(X, fm = "minres",
  fa = "both")`` (default: 20 simulated and 20 resampled data sets) followed by ``fa`` with the number
  it suggests;
* whole process: ``servmodels efa FILE --instrument I --nan-policy omit [--n-factors 5] --json`` against
  ``Rscript`` loading psych, reading the CSV, recoding and running the same analysis; alternating, best of k;
* the largest absolute loading difference from psych (after matching factor order and sign).

Run ``python benchmarks/bench_efa.py``; ``run.py`` calls :func:`run` and :func:`markdown`.
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
FITS = (("minres", "promax"), ("ml", "promax"), ("minres", "oblimin"), ("ml", "varimax"))

R_PREP = r"""
suppressPackageStartupMessages(library(psych))
args <- commandArgs(trailingOnly = TRUE)
X <- read.csv(args[1])[, 1:25]
for (r in c("A1", "C4", "C5", "E1", "E2", "O2", "O5")) X[[r]] <- 7 - X[[r]]
X <- X[complete.cases(X), ]
"""

R_INPROCESS = R_PREP + r"""
reps <- as.integer(args[2])
best <- function(expr) min(sapply(seq_len(reps), function(i) system.time(eval(expr))[["elapsed"]]))
fits <- list(c("minres", "promax"), c("ml", "promax"), c("minres", "oblimin"), c("ml", "varimax"))
out <- list()
for (f in fits) {
  key <- paste(f, collapse = "_")
  fit <- fa(X, 5, fm = f[1], rotate = f[2])
  out[[key]] <- list(time = best(quote(fa(X, 5, fm = f[1], rotate = f[2]))), loadings = unclass(fit$loadings))
}
set.seed(1)
pa_time <- min(sapply(seq_len(max(1, reps %/% 2)), function(i) system.time({
  pa <<- fa.parallel(X, fm = "minres", fa = "both", plot = FALSE)
  fa(X, pa$nfact, fm = "minres", rotate = "promax")
})[["elapsed"]]))
out$parallel <- list(time = pa_time, nfact = pa$nfact)
cat(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor"), "\n")
"""

R_PROCESS_PA = R_PREP + r"""
pa <- fa.parallel(X, fm = "minres", fa = "both", plot = FALSE)
print(fa(X, pa$nfact, fm = "minres", rotate = "promax"))
"""

R_PROCESS_FA = R_PREP + r"""
print(fa(X, 5, fm = "minres", rotate = "promax"))
"""


def _loading_diff(ours, theirs) -> float:
    import numpy as np

    from servmodels._rotation import linear_sum_assignment_max

    A, B = np.asarray(ours), np.asarray(theirs)
    _, c = linear_sum_assignment_max(np.abs(A.T @ B))
    B = B[:, c] * np.sign((A * B[:, c]).sum(axis=0))
    return float(np.abs(A - B).max())


def run(repeat: int = 7, process_repeat: int = 5) -> dict:
    import servmodels as sm
    from servmodels.validity import efa

    load_before = os.getloadavg()
    data = sm.read_survey(BFI, INST, nan_policy="omit")
    out: dict = {"n": data.n_respondents, "fits": {}}
    for method, rotation in FITS:
        res = efa(data, n_factors=5, method=method, rotation=rotation)
        out["fits"][f"{method}_{rotation}"] = {
            "servmodels_s": best_of(lambda m=method, r=rotation: efa(data, n_factors=5, method=m, rotation=r), repeat),
            "loadings": res.loadings.to_numpy().tolist()}
    pa20 = efa(data, n_iter=20)
    out["pa20_s"] = best_of(lambda: efa(data, n_iter=20), repeat)
    out["pa100_s"] = best_of(lambda: efa(data), repeat)
    out["suggested"] = pa20.suggested_n_factors
    cli = [sys.executable, "-m", "servmodels.cli", "efa", str(BFI), "--instrument", str(INST), "--nan-policy", "omit",
           "--json"]
    have_r = shutil.which("Rscript") is not None
    procs: dict[str, list[float]] = {"ours_pa": [], "ours_fa": [], "psych_pa": [], "psych_fa": []}
    with tempfile.TemporaryDirectory() as tmp:
        if have_r:
            script = Path(tmp) / "efa_inprocess.R"
            script.write_text(R_INPROCESS)
            proc = subprocess.run(["Rscript", str(script), str(BFI), str(repeat)], capture_output=True, text=True)
            if proc.returncode == 0:
                ref = json.loads(proc.stdout.strip().splitlines()[-1])
                for key, row in out["fits"].items():
                    row["psych_s"] = ref[key]["time"]
                    row["max_abs_diff"] = _loading_diff(row["loadings"], ref[key]["loadings"])
                out["psych_pa_s"] = ref["parallel"]["time"]
                out["psych_suggested"] = ref["parallel"]["nfact"]
            (Path(tmp) / "pa.R").write_text(R_PROCESS_PA)
            (Path(tmp) / "fa.R").write_text(R_PROCESS_FA)
        for _ in range(process_repeat):  # alternate, so that both see the same machine load
            procs["ours_pa"].append(process_seconds(cli, repo_env()))
            procs["ours_fa"].append(process_seconds(cli + ["--n-factors", "5"], repo_env()))
            if have_r:
                procs["psych_pa"].append(process_seconds(["Rscript", str(Path(tmp) / "pa.R"), str(BFI)], repo_env()))
                procs["psych_fa"].append(process_seconds(["Rscript", str(Path(tmp) / "fa.R"), str(BFI)], repo_env()))
    for k, v in procs.items():
        if v:
            out[f"{k}_process_s"] = min(v)
    for row in out["fits"].values():
        del row["loadings"]
    out["load_avg"] = [round(v, 2) for v in load_before + os.getloadavg()]
    print(json.dumps(out), flush=True)
    return out


def markdown(out: dict) -> str:
    nan = float("nan")
    lines = [
        "## EFA vs psych (`benchmarks/bench_efa.py`)",
        "",
        f"psych's bfi, 25 items, n = {out['n']:,} complete respondents, five factors. In-process times are best of 7",
        "(psych timed by `system.time`); whole processes (interpreter start, imports, reading the CSV, analysis,",
        "output) best of 5, the programs alternating. Load average (1, 5, 15 min) before and after: "
        + ", ".join(f"{v:.2f}" for v in out["load_avg"]) + ".",
        "",
        "| job | servmodels s | psych s | servmodels / psych | max abs. loading diff. |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, row in out["fits"].items():
        method, rotation = key.split("_")
        ours, peer = row["servmodels_s"], row.get("psych_s", nan)
        lines.append(f"| `efa(n_factors=5, method={method!r}, rotation={rotation!r})` vs `fa(fm=, rotate=)` | "
                     f"{ours:.4f} | {peer:.4f} | {ours / peer:.2f} | {row.get('max_abs_diff', nan):.1e} |")
    peer = out.get("psych_pa_s", nan)
    lines += [
        f"| `efa()` with parallel analysis, 20 data sets, vs `fa.parallel` (20 simulated + 20 resampled) + `fa` | "
        f"{out['pa20_s']:.4f} | {peer:.4f} | {out['pa20_s'] / peer:.2f} | |",
        f"| `efa()` with parallel analysis, 100 data sets (our default), vs the same psych job | {out['pa100_s']:.4f} | "
        f"{peer:.4f} | {out['pa100_s'] / peer:.2f} | |",
    ]
    for k, label in (("pa", "`servmodels efa FILE --json` (parallel analysis) vs `Rscript` fa.parallel + fa"),
                     ("fa", "`servmodels efa FILE --n-factors 5 --json` vs `Rscript` fa(5)")):
        ours, peer = out[f"ours_{k}_process_s"], out.get(f"psych_{k}_process_s", nan)
        lines.append(f"| whole process: {label} | {ours:.3f} | {peer:.3f} | {ours / peer:.2f} | |")
    lines += [
        "",
        f"Parallel analysis suggests {out['suggested']} factors (psych: {out.get('psych_suggested', '—')}).",
        "",
        "Target (issue 16.3): parallel analysis only without `n_factors`; minres/ML fits in at most psych's time.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown(run()))
