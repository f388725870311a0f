"""Run every benchmark and write benchmarks/RESULTS.md (peers measured in the same run).

Usage: ``make bench`` or ``python benchmarks/run.py [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    import numpy
    import pandas

    return (
        f"{cpu}; {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, pandas {pandas.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke run, not for RESULTS.md)")
    args = parser.parse_args()
    import bench_app
    import bench_bootstrap
    import bench_cfa
    import bench_cluster_omega
    import bench_efa
    import bench_fiml
    import bench_latent_gap
    import bench_planning
    import bench_regress
    import bench_report
    import bench_scoring
    import bench_startup
    import bench_streaming

    n = 100_000 if args.quick else 1_000_000
    r = bench_scoring.run(n=n, repeat=3 if args.quick else 5)
    lines = [
        "# Benchmark results",
        "",
        f"Run: {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC by `make bench` (`benchmarks/run.py`).",
        f"Machine: {machine()}.",
        "Peers are measured in the same run on the same data.",
        "",
        "## Scoring throughput (`benchmarks/bench_scoring.py`)",
        "",
        f"{r['n_respondents']:,} respondents x {r['n_items']} Likert items (25 E + 25 P, int8, scale 1-5), best of 5.",
        "Both produce respondent-level dimension scores (E, P, gap, overall) and item and dimension means",
        "and SDs; servmodels' time also includes validation (range, integer and missing checks).",
        "",
        "| implementation | seconds | rows/s | ratio |",
        "|---|---:|---:|---:|",
        f"| servmodels `validate_survey` + `score` | {r['servmodels_s']:.3f} | {r['servmodels_rows_per_s']:,.0f} | {r['speedup']:.1f}x faster |",
        f"| pandas baseline (`DataFrame.mean/std`) | {r['pandas_s']:.3f} | {r['pandas_rows_per_s']:,.0f} | 1.0x |",
        "",
        "Target (issue 3): at least 5x the pandas baseline at 1e6 x 50.",
        "",
    ]
    sizes = (100, 1_000) if args.quick else (100, 1_000, 100_000)
    lines.append(bench_cfa.markdown(bench_cfa.run(sizes)))
    lines.append(bench_cfa.markdown_robust(bench_cfa.run_robust((1_000,) if args.quick else (1_000, 10_000))))
    lines.append(bench_latent_gap.markdown(bench_latent_gap.run((600,) if args.quick else (600, 5_000))))
    lines.append(bench_cluster_omega.run(quick=args.quick))
    lines.append(bench_fiml.markdown(bench_fiml.run(reps=1 if args.quick else 3, process_reps=1 if args.quick else 2,
                                                    cases=bench_fiml.CASES[::5] if args.quick else bench_fiml.CASES)))
    lines.append(bench_bootstrap.markdown(bench_bootstrap.run(((1_000, 2_000),) if args.quick else
                                                             ((1_000, 2_000), (1_000, 10_000), (100_000, 2_000), (100_000, 10_000)))))
    lines.append(bench_streaming.markdown(bench_streaming.run(1_000_000 if args.quick else 10_000_000)))
    lines.append(bench_report.markdown(bench_report.run(n=40_000 if args.quick else 400_000, repeat=1 if args.quick else 2,
                                                        peer_n=5_000 if args.quick else 20_000, peer_b=50 if args.quick else 200)))
    lines.append(bench_planning.markdown(bench_planning.run_closed(),
                                         bench_planning.run_mc(replications=20 if args.quick else 100)))
    lines.append(bench_startup.markdown(bench_startup.run(repeat=3 if args.quick else 7, slow_repeat=1 if args.quick else 3)))
    lines.append(bench_regress.markdown(bench_regress.run(repeat=3 if args.quick else 7, process_repeat=3 if args.quick else 7)))
    lines.append(bench_efa.markdown(bench_efa.run(repeat=3 if args.quick else 7, process_repeat=2 if args.quick else 5)))
    with_app = True
    try:
        import httpx2  # noqa: F401  (the app extra and httpx2: `pip install -e '.[test,app]'`)
    except ImportError:
        with_app = False
    if with_app:
        lines.append(bench_app.markdown(bench_app.run(n_upload=50_000 if args.quick else 200_000,
                                                      n_report=5_000 if args.quick else 20_000,
                                                      repeat=1 if args.quick else 3)))
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        (HERE / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
