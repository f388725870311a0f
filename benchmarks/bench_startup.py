"""Whole processes: the ``servmodels`` command as a user runs it, against ``Rscript`` doing the same work.

Every row times complete processes (interpreter start, imports, reading the file, the
analysis, printing), servmodels and its peer alternately in the same run on the same
file, best of ``repeat`` after one untimed warm-up each (the warm-up also writes
Python's bytecode caches, which an installed package has; R's packages are byte-compiled
when installed):

* ``servmodels --version`` (no numpy or pandas; the interpreter alone is the floor);
* ``servmodels score`` on the bundled 100-respondent example (E and P, 1-4) vs base R
  reading the CSV and computing item and dimension means and SDs of E, P and P - E;
* ``servmodels cfa`` at n = 1 000 (25 items, five factors, ML) vs ``Rscript`` with
  lavaan (``library(lavaan)``, ``read.csv``, ``cfa``, ``fitMeasures``);
* ``servmodels regress --ordinal`` on psych's bfi (2 800 x 25, missing answers, 5 scale
  scores, outcome education) vs ``MASS::polr`` on the same scores;
* ``servmodels cfa --missing fiml`` on bfi (five factors, 2 800 rows with missing answers)
  vs lavaan ``missing = "ml"``.

Each row checks that both did the same work (chi-square, coefficients, means).  A second
table gives the floor: the interpreter, numpy, pandas and scipy imports as processes.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
DATA = HERE / "data"
REF = ROOT / "tests" / "reference"
EXAMPLE = ROOT / "servmodels" / "datasets" / "bawang_synthetic.csv"
BFI = REF / "data" / "bfi.csv"
BFI_INSTRUMENT = REF / "instruments" / "bfi.json"

R_SCORE = r"""
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
E <- as.matrix(d[paste0("E", 1:25)]); P <- as.matrix(d[paste0("P", 1:25)]); G <- P - E
dims <- list(tangibles = 1:5, reliability = 6:10, responsiveness = 11:15, assurance = 16:20, empathy = 21:25)
items <- cbind(colMeans(E), apply(E, 2, sd), colMeans(P), apply(P, 2, sd), colMeans(G), apply(G, 2, sd))
resp <- sapply(dims, function(j) rowMeans(G[, j]))
dim_gap <- colMeans(resp); dim_sd <- apply(resp, 2, sd)
cat(sprintf('{"gap": [%s]}\n', paste(sprintf("%.12f", dim_gap), collapse = ", ")))
"""

R_CFA = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
fit <- cfa(readLines(args[2]), data = d, missing = args[3])
fm <- fitMeasures(fit, c("chisq", "df", "cfi", "tli", "rmsea", "srmr"))
cat(sprintf('{"chisq": %.12f, "df": %d}\n', fm[["chisq"]], as.integer(fm[["df"]])))
"""

R_POLR = r"""
suppressPackageStartupMessages(library(MASS))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
dims <- list(agreeableness = paste0("A", 1:5), conscientiousness = paste0("C", 1:5),
             extraversion = paste0("E", 1:5), neuroticism = paste0("N", 1:5), openness = paste0("O", 1:5))
rev <- c("A1", "C4", "C5", "E1", "E2", "O2", "O5")  # bfi.json's reverse-keyed items, recoded 1 + 6 - x
d[rev] <- 7 - d[rev]
d <- d[complete.cases(d[c(unlist(dims), "education")]), ]
X <- as.data.frame(lapply(dims, function(items) rowMeans(d[items])))
X$education <- factor(d$education, ordered = TRUE)
fit <- polr(education ~ ., data = X, Hess = TRUE)
cat(sprintf('{"coef": [%s], "n": %d}\n', paste(sprintf("%.12f", coef(fit)), collapse = ", "), nrow(X)))
"""


@dataclass
class Case:
    name: str
    ours: list[str]
    peer: list[str] | None
    target: str
    #: (our stdout, peer stdout) -> agreement note, e.g. "chi2 rel. diff. 2e-09"
    check: Callable[[str, str], str] | None = None
    repeat: int | None = None
    times: dict[str, list[float]] = field(default_factory=lambda: {"ours": [], "peer": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"ours": [], "peer": []})


def _servmodels() -> list[str]:
    """The console script next to this interpreter (what a user types), else ``python -m servmodels``."""
    script = Path(sys.executable).with_name("servmodels")
    return [str(script)] if script.exists() else [sys.executable, "-m", "servmodels"]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode caches
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process and its threads, stdout); CPU time is less disturbed
    than wall time when other processes share the machine."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return elapsed, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), proc.stdout


def _cfa_data(n: int = 1_000) -> Path:
    path = DATA / f"servqual25_P_{n}.csv"
    if not path.exists():  # the file bench_cfa.py writes
        import bench_cfa

        bench_cfa.dataset(n)
    return path


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def _chisq_check(ours: str, peer: str) -> str:
    return f"chi2 rel. diff. {_rel(json.loads(ours)['fit']['chisq'], json.loads(peer)['chisq']):.0e}"


def _polr_check(ours: str, peer: str) -> str:
    a, b = json.loads(ours), json.loads(peer)
    diff = max(abs(x - y) for x, y in zip(a["coef"].values(), b["coef"]))
    return f"max coef. diff. {diff:.0e} (polr's tolerance); n {a['n_respondents']} vs {b['n']}"


def _score_check(ours: str, peer: str) -> str:
    gaps = [v["gap"] for v in json.loads(ours)["dimensions"].values()]
    return f"max gap diff. {max(abs(x - y) for x, y in zip(gaps, json.loads(peer)['gap'])):.0e}"


def cases(tmp: Path, *, rscript: str | None, slow_repeat: int) -> list[Case]:
    sm = _servmodels()
    (tmp / "score.R").write_text(R_SCORE)
    (tmp / "cfa.R").write_text(R_CFA)
    (tmp / "polr.R").write_text(R_POLR)
    model = tmp / "servqual25_P.lav"
    dims = {"tangibles": range(1, 6), "reliability": range(6, 11), "responsiveness": range(11, 16),
            "assurance": range(16, 21), "empathy": range(21, 26)}
    model.write_text("".join(f"{d} =~ {' + '.join(f'P{i}' for i in r)}\n" for d, r in dims.items()))
    bfi_model = tmp / "bfi.lav"
    inst = json.loads(BFI_INSTRUMENT.read_text())
    bfi_model.write_text("".join(f"{d} =~ {' + '.join(items)}\n" for d, items in inst["dimensions"].items()))
    data = str(_cfa_data())
    r = [rscript] if rscript else None
    return [
        Case("`servmodels --version`", [*sm, "--version"], None, "no numpy/pandas; about the interpreter's start"),
        Case("`servmodels score` 100 rows (E, P)", [*sm, "score", str(EXAMPLE), "--json"],
             r and [*r, str(tmp / "score.R"), str(EXAMPLE)], "< 0.7 s", _score_check),
        Case("`servmodels cfa` n = 1 000, ML", [*sm, "cfa", data, "--scale", "1", "5", "--scores", "P", "--json"],
             r and [*r, str(tmp / "cfa.R"), data, str(model), "listwise"], "<= 1.0x Rscript + lavaan", _chisq_check),
        Case("`servmodels regress --ordinal` bfi", [*sm, "regress", str(BFI), "--instrument", str(BFI_INSTRUMENT),
                                                    "--nan-policy", "omit", "--outcome", "education", "--ordinal", "--json"],
             r and [*r, str(tmp / "polr.R"), str(BFI)], "<= 3x Rscript + MASS::polr", _polr_check, slow_repeat),
        Case("`servmodels cfa --missing fiml` bfi", [*sm, "cfa", str(BFI), "--model-file", str(bfi_model),
                                                     "--missing", "fiml", "--json"],
             r and [*r, str(tmp / "cfa.R"), str(BFI), str(bfi_model), "ml"], "<= 0.6x Rscript + lavaan missing = \"ml\"",
             _chisq_check, slow_repeat),
    ]


FLOOR = {
    "python -c pass": "pass",
    "python: import numpy": "import numpy",
    "python: import numpy, scipy.linalg": "import numpy, scipy.linalg",
    "python: import numpy, scipy.special": "import numpy, scipy.special",
    "python: import numpy, pandas": "import numpy, pandas",
    "python: import numpy, pandas + servmodels cfa modules": "import numpy, pandas, servmodels.cli, servmodels.io, servmodels.sem",
}
R_FLOOR = {"Rscript -e 0": "0", "Rscript: library(lavaan)": "suppressPackageStartupMessages(library(lavaan))"}


def run(repeat: int = 5, slow_repeat: int = 3, only: str | None = None) -> dict:
    """Time every case (best of ``repeat``; FIML and ordinal rows best of ``slow_repeat``) and the floor."""
    env = _env()
    rscript = shutil.which("Rscript")
    load_before = os.getloadavg()
    out: dict = {"rows": [], "floor": []}
    with tempfile.TemporaryDirectory() as tmpdir:
        for case in cases(Path(tmpdir), rscript=rscript, slow_repeat=slow_repeat):
            if only and only not in case.name:
                continue
            ours_out = _timed(case.ours, env)[2]  # warm-up: bytecode caches, file cache
            peer_out = _timed(case.peer, env)[2] if case.peer else ""
            for _ in range(case.repeat or repeat):
                for who, cmd in (("ours", case.ours), ("peer", case.peer)):
                    if cmd:
                        wall, cpu, _ = _timed(cmd, env)
                        case.times[who].append(wall)
                        case.cpu[who].append(cpu)
            row = {"case": case.name, "target": case.target, "ours_s": min(case.times["ours"]),
                   "ours_median_s": statistics.median(case.times["ours"]), "ours_cpu_s": min(case.cpu["ours"]),
                   "runs": len(case.times["ours"])}
            if case.peer:
                row.update(peer_s=min(case.times["peer"]), peer_median_s=statistics.median(case.times["peer"]),
                           peer_cpu_s=min(case.cpu["peer"]))
                row["ratio"] = row["ours_s"] / row["peer_s"]
                row["ratio_median"] = row["ours_median_s"] / row["peer_median_s"]
                row["ratio_cpu"] = row["ours_cpu_s"] / row["peer_cpu_s"]
                row["agreement"] = case.check(ours_out, peer_out) if case.check else ""
            out["rows"].append(row)
            print(json.dumps(row), flush=True)
        if not only:
            floor = [(k, [sys.executable, "-c", v]) for k, v in FLOOR.items()]
            floor += [(k, [rscript, "-e", v]) for k, v in R_FLOOR.items()] if rscript else []
            for _ in range(1 + repeat):  # the first round warms up; processes alternate like the rows above
                for i, (name, cmd) in enumerate(floor):
                    if len(out["floor"]) <= i:
                        out["floor"].append({"process": name, "wall": [], "cpu": []})
                    wall, cpu, _ = _timed(cmd, env)
                    out["floor"][i]["wall"].append(wall)
                    out["floor"][i]["cpu"].append(cpu)
            for f in out["floor"]:
                wall, cpu = f.pop("wall")[1:], f.pop("cpu")[1:]
                f.update(best_s=min(wall), median_s=statistics.median(wall), cpu_s=min(cpu))
    out["load"] = (load_before, os.getloadavg())
    return out


def markdown(res: dict) -> str:
    (b1, b5, b15), (a1, a5, a15) = res["load"]
    lines = [
        "## Whole processes: the command line against Rscript (`benchmarks/bench_startup.py`)",
        "",
        "Each time is a complete process (start, imports, reading, analysis, output), best of k runs alternating with",
        "the peer (medians in brackets); bytecode caches warm, as after installation. The ratio is servmodels / peer",
        "of the best times; CPU s is the best user + system time of the process (all its threads), less disturbed",
        f"by other work on the machine. Load average before/after: {b1:.2f} {b5:.2f} {b15:.2f} / {a1:.2f} {a5:.2f} {a15:.2f}.",
        "",
        "| process | servmodels s | peer s | servmodels / peer | CPU s: servmodels / peer (ratio) | target | same work |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for r in res["rows"]:
        peer = f"{r['peer_s']:.3f} ({r['peer_median_s']:.3f})" if "peer_s" in r else "—"
        ratio = f"{r['ratio']:.2f} ({r['ratio_median']:.2f})" if "ratio" in r else "—"
        cpu = (f"{r['ours_cpu_s']:.3f} / {r['peer_cpu_s']:.3f} ({r['ratio_cpu']:.2f})" if "ratio" in r
               else f"{r['ours_cpu_s']:.3f}")
        lines.append(f"| {r['case']} | {r['ours_s']:.3f} ({r['ours_median_s']:.3f}) | {peer} | {ratio} | {cpu} | "
                     f"{r['target']} | {r.get('agreement', '')} |")
    if res["floor"]:
        lines += ["", "The floor, as processes alternating (best of k, median in brackets; CPU s):", "",
                  "| process | s | CPU s |", "|---|---:|---:|"]
        lines += [f"| {f['process']} | {f['best_s']:.3f} ({f['median_s']:.3f}) | {f['cpu_s']:.3f} |" for f in res["floor"]]
    lines += ["", "Targets (issue 16): `score` on 100 rows under 0.7 s; `cfa` at n = 1 000 at most 1.0x Rscript + lavaan; "
              "`regress --ordinal` at most 3x `MASS::polr`; FIML at most 0.6x lavaan `missing = \"ml\"`.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--slow-repeat", type=int, default=3, help="runs of the FIML and ordinal rows")
    parser.add_argument("--only", help="run the rows whose name contains this text (no floor table)")
    a = parser.parse_args()
    sys.path.insert(0, str(HERE))
    print(markdown(run(a.repeat, a.slow_repeat, a.only)))
