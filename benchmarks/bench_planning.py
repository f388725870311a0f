"""Study planning: servmodels vs semTools (closed forms) and vs an R/lavaan Monte Carlo loop, same run.

* RMSEA sample size (``plan_rmsea(df=265, power=0.8)`` against ``semTools::findRMSEAsamplesize``) and power
  (``findRMSEApower``), timed in process (best of k; R times inside R with ``system.time``); the answers
  must agree (n exactly, power to 1e-9).
* Monte Carlo planning: ``plan_simulate`` at n = 100 and 200 (CFA of the 25 perception items and a paired t
  test of each of the 5 dimension gaps per replication; no SERVQUAL/SERVPERF comparison) with 1 and 2
  worker processes, against the same work in R: draw 10 correlated normal factors (``MASS::mvrnorm``),
  cut loading-0.7 items at 1-5 thresholds, ``lavaan::cfa`` of the P items and 5 ``t.test`` per replication —
  what a thesis writer would script with lavaan (simsem is the packaged form of this loop).  Both report
  the share of proper CFA solutions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from _timing import best_of  # benchmarks/ is on sys.path

import servmodels as sm

R_CLOSED = r"""
suppressPackageStartupMessages(library(semTools))
reps <- as.integer(commandArgs(trailingOnly = TRUE)[1])
n <- findRMSEAsamplesize(0.05, 0.08, 265, 0.8, 0.05)
p <- findRMSEApower(0.05, 0.08, 265, 100, 0.05)
t_n <- min(sapply(seq_len(reps), function(i) system.time(for (k in 1:20) findRMSEAsamplesize(0.05, 0.08, 265, 0.8, 0.05))[["elapsed"]])) / 20
t_p <- min(sapply(seq_len(reps), function(i) system.time(for (k in 1:1000) findRMSEApower(0.05, 0.08, 265, 100, 0.05))[["elapsed"]])) / 1000
cat(sprintf('{"n": %d, "power": %.15f, "t_n": %.6f, "t_power": %.8f}\n', n, p, t_n, t_p))
"""

R_MC = r"""
suppressPackageStartupMessages({ library(lavaan); library(MASS) })
args <- commandArgs(trailingOnly = TRUE)
ns <- as.integer(strsplit(args[1], ",")[[1]]); reps <- as.integer(args[2])
set.seed(1)
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
R_dims <- matrix(0.5, 5, 5); diag(R_dims) <- 1
C_sets <- matrix(c(1, 0.4, 0.4, 1), 2, 2)
Phi <- kronecker(C_sets, R_dims)
cuts <- c(-1.5, -0.5, 0.5, 1.5)
model <- paste(sapply(names(dims), function(d) paste(d, "=~", paste0("P", dims[[d]], collapse = " + "))), collapse = "\n")
one <- function(n) {
  f <- mvrnorm(n, rep(0, 10), Phi)
  item <- function(col, shift) { y <- 0.7 * f[, col] + sqrt(1 - 0.49) * rnorm(n) + shift; 1 + findInterval(y, cuts) }
  E <- sapply(1:25, function(i) item((i - 1) %/% 5 + 1, 0.5))
  P <- sapply(1:25, function(i) item(5 + (i - 1) %/% 5 + 1, 0.0))
  colnames(P) <- paste0("P", 1:25)
  fit <- tryCatch(cfa(model, data = as.data.frame(P)), warning = function(w) NULL, error = function(e) NULL)
  proper <- !is.null(fit) && lavInspect(fit, "converged") && lavInspect(fit, "post.check")
  p <- sapply(dims, function(i) t.test(rowMeans(P[, i]) - rowMeans(E[, i]))$p.value)
  c(proper, p < 0.05)
}
t <- system.time(res <- lapply(ns, function(n) t(sapply(seq_len(reps), function(r) one(n)))))[["elapsed"]]
conv <- sapply(res, function(m) mean(m[, 1]))
cat(sprintf('{"time": %.4f, "convergence": [%s]}\n', t, paste(sprintf("%.4f", conv), collapse = ", ")))
"""


def _rscript(code: str, *args: str) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(code)
        path = fh.name
    proc = subprocess.run(["Rscript", path, *args], capture_output=True, text=True, check=False)
    Path(path).unlink(missing_ok=True)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_closed(repeat: int = 5) -> dict:
    res = sm.plan_rmsea(df=265, power=0.8)
    t_n = best_of(lambda: sm.plan_rmsea(df=265, power=0.8), repeat)
    from servmodels.planning import rmsea_power

    p = float(rmsea_power(100, df=265, rmsea0=0.05, rmsea_a=0.08))
    t_p = best_of(lambda: [rmsea_power(100, df=265, rmsea0=0.05, rmsea_a=0.08) for _ in range(100)], repeat) / 100
    r = _rscript(R_CLOSED, str(repeat))
    return {"n": res.n, "power": p, "t_n": t_n, "t_power": t_p, "r": r}


def run_mc(ns: tuple[int, ...] = (100, 200), replications: int = 100, repeat: int = 2) -> dict:
    out: dict = {"ns": ns, "replications": replications}
    kw = dict(replications=replications, rng=1, village_sd=0.0, compare=False, cfa_scores="P")
    sm.plan_simulate([50], replications=2, rng=0, compare=False)  # imports and first-call costs out of the timing
    holder: dict = {}
    for w in (1, 2):
        out[f"t_workers_{w}"] = best_of(lambda w=w: holder.update(res=sm.plan_simulate(list(ns), workers=w, **kw)),
                                        repeat)
    out["convergence"] = holder["res"].by_n["convergence_rate"].tolist()
    out["r"] = _rscript(R_MC, ",".join(map(str, ns)), str(replications))
    return out


def markdown(closed: dict, mc: dict) -> str:
    lines = ["## Study planning (`benchmarks/bench_planning.py`)", ""]
    r = closed["r"]
    lines += ["RMSEA test of close fit (0.05 vs 0.08, df = 265): n for power 0.8 and the power at n = 100.", "",
              "| quantity | servmodels | semTools | servmodels s | semTools s | servmodels / semTools |",
              "|---|---:|---:|---:|---:|---:|"]
    if r:
        lines.append(f"| n for power > 0.8 | {closed['n']} | {r['n']} | {closed['t_n']:.5f} | {r['t_n']:.5f} | "
                     f"{closed['t_n'] / max(r['t_n'], 1e-6):.2f} |")
        lines.append(f"| power at n = 100 | {closed['power']:.12f} | {r['power']:.12f} | {closed['t_power']:.6f} | "
                     f"{r['t_power']:.6f} | {closed['t_power'] / max(r['t_power'], 1e-9):.2f} |")
    else:
        lines.append(f"| n for power > 0.8 | {closed['n']} | (R not available) | {closed['t_n']:.5f} | | |")
    lines += ["", "Times per call: R times 20 (sample size) or 1 000 (power) calls with `system.time` and divides.", ""]
    lines += [f"Monte Carlo planning: n = {', '.join(map(str, mc['ns']))}, {mc['replications']} replications each "
              "(CFA of the 25 P items + 5 paired t tests per replication), whole run in seconds.", "",
              "| implementation | seconds | replications/s | ratio to R | proper CFA solutions |",
              "|---|---:|---:|---:|---|"]
    total = len(mc["ns"]) * mc["replications"]
    rt = mc["r"]["time"] if mc["r"] else None
    for w in (1, 2):
        t = mc[f"t_workers_{w}"]
        lines.append(f"| servmodels `plan_simulate`, {w} worker{'s' if w > 1 else ''} | {t:.2f} | {total / t:.1f} | "
                     f"{t / rt:.2f} | {', '.join(f'{c:.2f}' for c in mc['convergence'])} |" if rt else
                     f"| servmodels `plan_simulate`, {w} worker(s) | {t:.2f} | {total / t:.1f} | | |")
    if rt:
        lines.append(f"| R loop: mvrnorm + lavaan `cfa` + `t.test` (1 process) | {rt:.2f} | {total / rt:.1f} | 1.00 | "
                     f"{', '.join(f'{c:.2f}' for c in mc['r']['convergence'])} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    closed = run_closed()
    mc = run_mc()
    print(markdown(closed, mc))
