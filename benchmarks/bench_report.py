"""Report speed on a large survey (issue 15 part 5): every analysis of ``analyze`` at 400 000 rows, the
whole ``servmodels report`` process, and the moment-based bootstraps against the plain per-resample
recomputation they replaced.

* ``steps``: ``simulate_servqual(n, rng=1)`` written to Parquet, read with ``outcome="satisfaction"``,
  ``groups=["village"]``; each analysis run alone by ``analyze(data, seed=0, analyses=[name])`` (the
  report's defaults: BCa gap bootstrap with 2000 resamples, reliability/compare/IPA 1000, parallel
  analysis 100 data sets, 10 x 10-fold cross-validation); best of ``repeat`` runs.
* ``report``: ``python -m servmodels report FILE --outcome satisfaction --group village --format html,md
  --out DIR --quiet`` in a fresh process (start-up, reading, every analysis, rendering); best of ``repeat``.
* ``peers``: on a smaller survey, each bootstrap's replicates from servmodels' weighted resample moments
  against the plain way, which copies every resample's rows and recomputes the statistic from them
  (``x[idx]``, ``np.corrcoef``, ``np.linalg.lstsq``), with the same resamples; the ratio of the times and
  the largest relative difference of the replicates.

Usage: ``python benchmarks/bench_report.py [--n 400000] [--repeat 2] [--peer-n 20000] [--peer-b 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import servmodels as sm
from servmodels.analysis import ANALYSES, analyze


def make_survey(n: int, folder: Path) -> Path:
    path = folder / f"survey_{n}.parquet"
    if not path.exists():
        sm.simulate_servqual(n, rng=1).to_parquet(path)
    return path


def read(path: Path) -> sm.SurveyData:
    return sm.read_survey(path, outcome="satisfaction", groups=["village"])


def time_steps(path: Path, repeat: int = 2, names: tuple[str, ...] = ANALYSES) -> dict[str, float]:
    """Seconds of each analysis run alone (best of ``repeat``), as ``analyze`` records them."""
    data = read(path)
    out: dict[str, float] = {}
    for name in names:
        best = np.inf
        for _ in range(repeat):
            step = analyze(data, seed=0, analyses=[name]).steps[name]
            if step.skipped:
                raise RuntimeError(f"{name} did not run: {step.skipped}")
            best = min(best, step.seconds)
        out[name] = best
        print(json.dumps({"step": name, "seconds": round(best, 3)}), flush=True)
    return out


def time_read(path: Path, repeat: int = 2) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        read(path)
        best = min(best, time.perf_counter() - t0)
    return best


def time_report(path: Path, repeat: int = 1) -> float:
    """Wall time of the whole ``servmodels report`` command in a fresh process."""
    best = np.inf
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "servmodels", "report", str(path), "--outcome", "satisfaction", "--group",
                   "village", "--format", "html,md", "--out", out, "--quiet"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ})
            best = min(best, time.perf_counter() - t0)
    print(json.dumps({"report_process_s": round(best, 2)}), flush=True)
    return best


# ----------------------------------------------------------------------------- peers: the plain way
def _indices(seeds, n: int):
    """The resamples of servmodels' stream (a ``ResampleStream``), one row-index vector at a time."""
    for r in range(len(seeds)):
        yield seeds[r].indices(n)[0]


def _plain_reliability(x: np.ndarray, groups: list[np.ndarray], seeds) -> np.ndarray:
    from servmodels.validity import htmt

    out = []
    for idx in _indices(seeds, len(x)):
        xs = x[idx]
        C = np.cov(xs, rowvar=False)
        alpha = [len(g) / (len(g) - 1) * (1 - np.trace(C[np.ix_(g, g)]) / C[np.ix_(g, g)].sum()) for g in groups]
        H = htmt(np.corrcoef(xs, rowvar=False), groups)
        out.append(np.concatenate([alpha, H[np.triu_indices(len(groups), 1)]]))
    return np.array(out)


def _plain_r2_difference(P: np.ndarray, G: np.ndarray, y: np.ndarray, seeds) -> np.ndarray:
    def r2(X: np.ndarray, yy: np.ndarray) -> float:
        Xc = np.column_stack([np.ones(len(yy)), X])
        beta = np.linalg.lstsq(Xc, yy, rcond=None)[0]
        r = yy - Xc @ beta
        return 1 - r @ r / ((yy - yy.mean()) ** 2).sum()

    return np.array([r2(P[idx], y[idx]) - r2(G[idx], y[idx]) for idx in _indices(seeds, len(y))])


def _plain_ipa(P: np.ndarray, E: np.ndarray, seeds) -> np.ndarray:
    p = P.shape[1]
    counts = np.zeros((4, p))
    for idx in _indices(seeds, len(P)):
        se, sp = E[idx].sum(axis=0), P[idx].sum(axis=0)
        up, low = p * se >= se.sum(), p * sp < sp.sum()
        counts += np.array([up & low, up & ~low, ~up & low, ~up & ~low])
    return counts / len(seeds)


def peers(n: int = 20_000, n_resamples: int = 200, repeat: int = 2) -> list[dict]:
    """servmodels' moment-based replicates against the plain per-resample recomputation, same resamples."""
    from servmodels._resample_moments import all_pairs, alpha_from_cov, htmt_batch, resample_moments, weighted_cov
    from servmodels.bootstrap import _seeds
    from servmodels.ipa import _quadrant_shares
    from servmodels.regression import _design, _r2_difference_replicates

    with tempfile.TemporaryDirectory() as folder:
        data = read(make_survey(n, Path(folder)))
    inst = data.instrument
    pos = {item: j for j, item in enumerate(inst.items)}
    groups = [np.array([pos[i] for i in inst.dimensions[d]]) for d in inst.dimension_names]
    x = data.item_scores("P").astype(np.float64)
    P, y = (a.to_numpy() if hasattr(a, "to_numpy") else a for a in _design(data, "P"))
    G = _design(data, "gap")[0].to_numpy()
    Pi, Ei = data.responses["P"].astype(float), data.responses["E"].astype(float)
    seeds = _seeds(0, n_resamples)
    iu = np.triu_indices(len(groups), 1)

    def moments_reliability() -> np.ndarray:
        ms = resample_moments(x, pairs=all_pairs(x.shape[1]), seeds=seeds)
        C = weighted_cov(ms)
        sd = np.sqrt(np.einsum("bii->bi", C))
        R = C / (sd[:, :, None] * sd[:, None, :])
        alpha = np.column_stack([alpha_from_cov(C[:, g][:, :, g]) for g in groups])
        return np.hstack([alpha, htmt_batch(R, groups)[:, iu[0], iu[1]]])

    cases = [
        ("reliability: alpha and HTMT", moments_reliability, lambda: _plain_reliability(x, groups, seeds)),
        ("compare: R2 difference", lambda: _r2_difference_replicates(data, P, G, y, seeds, False),
         lambda: _plain_r2_difference(P, G, y, seeds)),
        ("IPA: quadrant shares", lambda: np.array(list(_quadrant_shares(Pi, Ei, None, "expectation", seeds).values())),
         lambda: _plain_ipa(Pi, Ei, seeds)),
    ]
    rows = []
    for name, fast, plain in cases:
        t_fast, t_plain = np.inf, np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            a = fast()
            t_fast = min(t_fast, time.perf_counter() - t0)
            t0 = time.perf_counter()
            b = plain()
            t_plain = min(t_plain, time.perf_counter() - t0)
        rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
        row = {"statistic": name, "n": n, "B": n_resamples, "servmodels_s": t_fast, "plain_s": t_plain,
               "ratio": t_plain / t_fast, "max_rel_diff": rel}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def run(n: int = 400_000, repeat: int = 2, peer_n: int = 20_000, peer_b: int = 200,
        folder: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(folder or tmp)
        path = make_survey(n, base)
        steps = time_steps(path, repeat)
        read_s = time_read(path, repeat)
        report_s = time_report(path, repeat)
    return {"n": n, "steps": steps, "read_s": read_s, "report_s": report_s, "peers": peers(peer_n, peer_b, repeat)}


def markdown(res: dict, before: dict[str, float] | None = None) -> str:
    """``before``: seconds per analysis of an earlier version, for a before/after table."""
    n = res["n"]
    lines = [
        "## Report speed on a large survey (`benchmarks/bench_report.py`)",
        "",
        f"`simulate_servqual({n:_}, rng=1)` as Parquet, read with `outcome=\"satisfaction\"`, `groups=[\"village\"]`;",
        "each analysis alone by `analyze(data, seed=0, analyses=[name])` with the report's defaults (BCa gap",
        "bootstrap 2000 resamples; reliability, compare and IPA 1000; parallel analysis 100 data sets;",
        "10 x 10-fold cross-validation); best of the runs.",
        "",
        "| analysis | seconds" + (" | before | speed-up |" if before else " |"),
        "|---|---:" + ("|---:|---:|" if before else "|"),
    ]
    total = 0.0
    for name, s in res["steps"].items():
        total += s
        if before:
            b = before.get(name, np.nan)
            lines.append(f"| {name} | {s:.1f} | {b:.1f} | {b / s:.0f}x |")
        else:
            lines.append(f"| {name} | {s:.1f} |")
    tb = sum(before.values()) if before else None
    lines.append(f"| **all analyses** | **{total:.1f}** |" + (f" {tb:.1f} | {tb / total:.0f}x |" if before else ""))
    lines += [
        "",
        f"Reading the file: {res['read_s']:.1f} s. The whole `servmodels report FILE --outcome satisfaction --group "
        f"village --format html,md --out DIR` process (start-up, reading, every analysis, rendering): "
        f"**{res['report_s']:.1f} s** (target: under 60 s on 2 cores).",
        "",
        "Peers: the moment-based bootstraps against the plain way (copy each resample's rows, recompute the",
        "statistic from them), same resamples, same run:",
        "",
        "| bootstrap | n | B | servmodels s | plain per-resample s | speed-up | max rel. difference |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res["peers"]:
        lines.append(f"| {r['statistic']} | {r['n']:,} | {r['B']:,} | {r['servmodels_s']:.3f} | {r['plain_s']:.3f} | "
                     f"{r['ratio']:.0f}x | {r['max_rel_diff']:.1e} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--peer-n", type=int, default=20_000)
    ap.add_argument("--peer-b", type=int, default=200)
    ap.add_argument("--folder", help="keep the simulated file here (reused when present)")
    ap.add_argument("--steps-only", action="store_true", help="only time the analyses (e.g. of an older version)")
    ap.add_argument("--before", help="JSON file of seconds per analysis of an earlier version")
    a = ap.parse_args()
    if a.steps_only:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(time_steps(make_survey(a.n, Path(a.folder or tmp)), a.repeat)))
    else:
        res = run(a.n, a.repeat, a.peer_n, a.peer_b, a.folder)
        before = json.loads(Path(a.before).read_text()) if a.before else None
        print(markdown(res, before))
