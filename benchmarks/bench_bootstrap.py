"""Gap bootstrap: servmodels vs scipy.stats.bootstrap, same data, same run.

30 gaps (25 item gaps + 5 dimension gaps) of simulated Likert data (1-5).  scipy gets the
(n x 30) gap matrix with ``axis=0`` and a vectorised mean, so both compute the same 30
intervals from B resamples.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
from scipy import stats

import servmodels as sm
from servmodels.bootstrap import gap_bootstrap

INST = sm.get_instrument("servqual25").with_scale(1, 5)


def survey(n: int) -> sm.SurveyData:
    arr = np.random.default_rng(n).integers(1, 6, size=(n, 50), dtype=np.int8)
    return sm.validate_survey(pd.DataFrame(arr, columns=list(INST.columns("E")) + list(INST.columns("P"))), INST)


def gaps(d: sm.SurveyData) -> np.ndarray:
    G = (d.responses["P"].astype(float) - d.responses["E"])
    dims = np.column_stack([G[:, 5 * k : 5 * k + 5].mean(axis=1) for k in range(5)])
    return np.hstack([G, dims])


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(cases=((1_000, 2_000), (1_000, 10_000), (100_000, 2_000), (100_000, 10_000)), scipy_max_work: float = 2.5e8) -> list[dict]:
    rows = []
    for n, B in cases:
        d = survey(n)
        G = gaps(d)
        row = {"n": n, "B": B}
        for m in ("percentile", "bca"):
            row[f"servmodels_{m}_s"] = timed(lambda m=m, d=d, B=B: gap_bootstrap(d, method=m, n_resamples=B, rng=1))
        if n * B <= scipy_max_work:
            for m, sm_m in (("percentile", "percentile"), ("bca", "BCa")):
                if sm_m == "BCa" and n > 10_000:
                    continue  # scipy's BCa jackknife is n x n: infeasible at n = 100 000
                row[f"scipy_{m}_s"] = timed(lambda sm_m=sm_m, G=G, B=B, n=n: stats.bootstrap(
                    (G,), np.mean, axis=0, n_resamples=B, method=sm_m, rng=np.random.default_rng(1),
                    batch=max(1, int(2e7 // (n * 30)))))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def numpy_draw(n: int, B: int) -> float:
    """numpy merely drawing the B x n indices of an ordinary bootstrap (uint32, its fastest integers)."""
    gen = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _ in range(B):
        gen.integers(0, n, n, dtype=np.uint32)
    return time.perf_counter() - t0


def floor(n: int, B: int, repeat: int = 3, batch: int = 160, k: int = 30) -> tuple[float, float]:
    """The two steps BCa cannot avoid in this design, each alone on 2 threads (best of ``repeat``):
    drawing and counting the B x n indices (the compiled kernel, counts as float32, as the
    bootstrap), and the products of the count batches with the k = 30 resampled columns (25 item
    gaps and 5 perception dimension sums; the dimension and overall gaps are combinations of the
    item gaps) in float32 BLAS, one BLAS thread per worker, as the bootstrap."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from servmodels._compiled import kernels
    from servmodels._stream import ResampleStream

    kern = kernels(10**12, 1)
    keys = ResampleStream.from_rng(1, B).keys
    bufs = [np.empty((batch, n), np.float32) for _ in range(2)]
    Z = np.ones((k, n), np.float32)
    halves = [range(w * (B // 2), (w + 1) * (B // 2), batch) for w in range(2)]

    def counts(w: int) -> None:
        for b0 in halves[w]:
            part = keys[b0 : min(b0 + batch, (w + 1) * (B // 2))]
            kern.ordinary_counts(part, n, bufs[w][: len(part)])

    def products(w: int) -> None:
        for _ in halves[w]:
            Z @ bufs[w].T

    out = []
    with ThreadPoolExecutor(2) as pool, threadpool_limits(limits=1, user_api="blas"):
        for step in (counts, products):
            out.append(min(timed(lambda step=step: list(pool.map(step, range(2)))) for _ in range(repeat)))
    return out[0], out[1]


def interface(n: int = 100_000, B: int = 10_000, repeat: int = 3) -> dict:
    """Issue 16 part 5: BCa at B = 10 000, n = 100 000 (in process, kernels loaded by a warm-up call)
    against numpy's Generator.integers drawing the same 10^9 indices, best of ``repeat`` each, in the
    same run; also the numpy fallback (SERVMODELS_NO_NUMBA=1) once, and the first-call cost of
    importing numba and loading the compiled kernel in a fresh process."""
    import os
    import subprocess
    import sys

    d = survey(n)
    gap_bootstrap(d, method="bca", n_resamples=200, rng=0)  # warm-up: numba imported, kernel loaded
    ours = min(timed(lambda: gap_bootstrap(d, method="bca", n_resamples=B, rng=1)) for _ in range(repeat))
    draw = min(numpy_draw(n, B) for _ in range(repeat))
    os.environ["SERVMODELS_NO_NUMBA"] = "1"
    try:
        fallback = timed(lambda: gap_bootstrap(d, method="bca", n_resamples=B, rng=1))
    finally:
        del os.environ["SERVMODELS_NO_NUMBA"]
    code = ("import time, numpy as np; from servmodels._stream import ResampleStream\n"
            "t = time.perf_counter(); ResampleStream.from_rng(1, 500).counts(100_000)\n"
            "print(time.perf_counter() - t)")
    first = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    counts_s, products_s = floor(n, B, repeat)
    out = {"n": n, "B": B, "servmodels_bca_s": ours, "numpy_draw_s": draw, "ratio": ours / draw,
           "numpy_fallback_bca_s": fallback, "first_call_500_resamples_s": first,
           "floor_counts_s": counts_s, "floor_products_s": products_s}
    print(json.dumps(out), flush=True)
    return out


def markdown(rows: list[dict]) -> str:
    lines = [
        "## Gap bootstrap (`benchmarks/bench_bootstrap.py`)",
        "",
        "30 gaps (25 items + 5 dimensions), simulated Likert data; wall time of one call; scipy.stats.bootstrap",
        "gets the n x 30 gap matrix (vectorised mean, axis=0). Cells without scipy were not run: its work grows",
        "as n x B x 30 gathered values (and its BCa jackknife as n^2).",
        "",
        "| n | B | servmodels percentile s | servmodels BCa s | scipy percentile s | scipy BCa s | speed-up percentile | speed-up BCa |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        sp, sb = r.get("scipy_percentile_s", np.nan), r.get("scipy_bca_s", np.nan)
        lines.append(f"| {r['n']:,} | {r['B']:,} | {r['servmodels_percentile_s']:.2f} | {r['servmodels_bca_s']:.2f} | "
                     f"{sp:.2f} | {sb:.2f} | {sp / r['servmodels_percentile_s']:.1f}x | {sb / r['servmodels_bca_s']:.1f}x |")
    lines += ["", "Targets (issue 8): BCa with B = 10 000 at n = 100 000 under 5 s on 2 cores; at least 20x faster than",
              "scipy's percentile bootstrap at equal B.", ""]
    return "\n".join(lines)


def markdown_interface(r: dict) -> str:
    return "\n".join([
        "### BCa against numpy's draw (issue 16 part 5)",
        "",
        f"`gap_bootstrap(method=\"bca\", n_resamples={r['B']:,})` at n = {r['n']:,} (30 resampled columns, compiled",
        "draw-and-count, BLAS products on 2 threads) against numpy's `Generator.integers(0, n, n, dtype=uint32)` merely",
        "drawing the same 10^9 indices; best of 3 each, same run.",
        "",
        "| servmodels BCa s | numpy draw s | ratio | numpy fallback BCa s | first call, fresh process (500 resamples) s |",
        "|---:|---:|---:|---:|---:|",
        f"| {r['servmodels_bca_s']:.2f} | {r['numpy_draw_s']:.2f} | {r['ratio']:.2f} | {r['numpy_fallback_bca_s']:.2f} | "
        f"{r['first_call_500_resamples_s']:.2f} |",
        "",
        f"The floor of this design, each step alone on 2 threads: drawing and counting the 10^9 indices "
        f"{r['floor_counts_s']:.2f} s, the products of the counts with the 30 resampled columns {r['floor_products_s']:.2f} s; "
        f"together {r['floor_counts_s'] + r['floor_products_s']:.2f} s against 0.5x numpy's draw = {0.5 * r['numpy_draw_s']:.2f} s.",
        "",
        "Targets (issue 16 part 5): BCa at B = 10 000, n = 100 000 in <= 2 s on 2 cores and <= 0.5x numpy's draw.",
        "",
    ])


if __name__ == "__main__":
    import sys

    if "--interface" in sys.argv:
        print(markdown_interface(interface()))
    else:
        print(markdown(run()))
        print(markdown_interface(interface()))
