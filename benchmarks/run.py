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


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "**missed**")


def issue16_summary(scoring: dict, fiml: list[dict], bca: dict, parquet: dict, report: dict, startup: dict,
                    regress: dict, efa: dict, big: str | None = None) -> str:
    """One table of issue 16's targets with the numbers measured in this run (details in the sections below)."""
    rows = []

    def add(job: str, ours: float, peer: float | None, peer_name: str, ratio: float | None, target: str,
            ok: bool | None) -> None:
        rows.append(f"| {job} | {ours:.3f} | {'—' if peer is None else f'{peer:.3f}'} {peer_name} | "
                    f"{'—' if ratio is None else f'{ratio:.2f}'} | {target} | {_verdict(ok)} |")

    def startup_row(prefix: str) -> dict:
        return next((x for x in startup["rows"] if x["case"].startswith(prefix)), {})

    for prefix, target, limit in (("`servmodels cfa --missing fiml`", "<= 0.6x", 0.6),
                                  ("`servmodels regress --ordinal`", "<= 3x", 3.0),
                                  ("`servmodels cfa` n = 1 000", "<= 1.0x", 1.0)):
        x = startup_row(prefix)
        if x:
            ratio = x.get("ratio")
            add(x["case"] + " (whole process)", x["ours_s"], x.get("peer_s"), "(Rscript)", ratio, target,
                None if ratio is None else ratio <= limit)
    x = startup_row("`servmodels score` 100")
    if x:
        add(x["case"] + " (whole process)", x["ours_s"], None, "", None, "< 0.7 s", x["ours_s"] < 0.7)
    x = startup_row("`servmodels --version`")
    if x:
        add(x["case"], x["ours_s"], None, "", None, "no numpy/pandas", None)
    for f in fiml:
        lav = f.get("lavaan_s")
        add(f"FIML fit, {f['case']}, {f['estimator']}, n = {f['n']:,} (in process)", f["servmodels_s"], lav,
            "(lavaan fit)", f["servmodels_s"] / lav if lav else None, "<= 0.5x", None if not lav else f["servmodels_s"] / lav <= 0.5)
    add("ordinal logit fit (in process)", regress["servmodels_s"], regress.get("polr_s"), "(polr)",
        regress["servmodels_s"] / regress["polr_s"] if regress.get("polr_s") else None, "<= 3x",
        regress["servmodels_s"] / regress["polr_s"] <= 3 if regress.get("polr_s") else None)
    pa = efa.get("psych_pa_s")
    add("`efa()` with parallel analysis (in process, 20 data sets)", efa["pa20_s"], pa, "(fa.parallel + fa)",
        efa["pa20_s"] / pa if pa else None, "<= 1x", efa["pa20_s"] / pa <= 1 if pa else None)
    for key, row in efa["fits"].items():
        ps = row.get("psych_s")
        add(f"`efa(n_factors=5)` {key} (in process)", row["servmodels_s"], ps, "(psych fa)",
            row["servmodels_s"] / ps if ps else None, "<= 1x", row["servmodels_s"] / ps <= 1 if ps else None)
    add(f"`report` on {report['n']:,} rows (whole command)", report["report_s"], None, "", None, "< 60 s",
        report["report_s"] < 60)
    add(f"`sm.score(df, ...)` {scoring['n_respondents']:,} x 50 int8", scoring["compiled_interface_s"],
        scoring["pandas_s"], "(pandas)", scoring["compiled_interface_s"] / scoring["pandas_s"], ">= 20x faster (<= 0.05)",
        scoring["interface_speedup"] >= 20)
    add(f"validate + score moments in memory ({scoring['moments_rows_per_s'] / 1e6:.1f} M rows/s)",
        scoring["compiled_moments_s"], None, "", None, ">= 30 M rows/s", scoring["moments_rows_per_s"] >= 30e6)
    add(f"BCa, B = {bca['B']:,}, n = {bca['n']:,} (in process)", bca["servmodels_bca_s"], bca["numpy_draw_s"],
        "(numpy draw)", bca["ratio"], "<= 0.5x and <= 2 s", bca["ratio"] <= 0.5 and bca["servmodels_bca_s"] <= 2)
    add(f"`servmodels score FILE.parquet --stream`, {parquet['n']:,} rows (whole process)",
        parquet["process_servmodels_s"], parquet["process_pyarrow_s"], "(pyarrow read_table process)",
        parquet["process_ratio"], "<= 1.25x", parquet["process_ratio"] <= 1.25)
    add(f"`stream_score` vs `pq.read_table`, {parquet['n']:,} rows (in process; fixed costs weigh at this size)",
        parquet["stream_s"], parquet["read_table_s"], "(read_table)", parquet["stream_s"] / parquet["read_table_s"],
        "— (the target is at 1e8 rows, next row)", None)
    cells = {}
    for line in (big or "").splitlines():  # the separate 1e8-row run (RESULTS_1e8.md), when present
        parts = [c.strip() for c in line.strip("|").split("|")]
        if len(parts) == 5 and parts[0] == "parquet" and parts[1] in ("servmodels_stream", "pyarrow_read"):
            cells[parts[1]] = (float(parts[2]), float(parts[4].replace(",", "")))
    if len(cells) == 2:
        (st, rss), (rd, _) = cells["servmodels_stream"], cells["pyarrow_read"]
        add(f"Parquet stream, 1e8 rows, as processes (separate run, RESULTS_1e8.md; peak RSS {rss:,.0f} MB)", st, rd,
            "(pyarrow read_table)", st / rd, "speed >= 0.8x (time <= 1.25x), RSS < 500 MB", st / rd <= 1.25 and rss < 500)
    return "\n".join([
        "## Issue 16 at a glance (this run)",
        "",
        "Each row is measured in this run beside its peer; the sections below give the details.",
        "",
        "| job | servmodels s | peer s | ratio | target | verdict |",
        "|---|---:|---:|---:|---|---|",
        *rows,
        "",
    ])


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
        bench_scoring.markdown(r),
    ]
    q = args.quick
    sizes = (100, 1_000) if q else (100, 1_000, 100_000)
    lines.append(bench_cfa.markdown(bench_cfa.run(sizes)))
    lines.append(bench_cfa.markdown_robust(bench_cfa.run_robust((1_000,) if q else (1_000, 10_000))))
    lines.append(bench_latent_gap.markdown(bench_latent_gap.run((600,) if q else (600, 5_000))))
    lines.append(bench_cluster_omega.run(quick=q))
    fiml = bench_fiml.run(reps=1 if q else 3, process_reps=1 if q else 2, cases=bench_fiml.CASES[::5] if q else bench_fiml.CASES)
    lines.append(bench_fiml.markdown(fiml))
    lines.append(bench_bootstrap.markdown(bench_bootstrap.run(((1_000, 2_000),) if q else
                                                             ((1_000, 2_000), (1_000, 10_000), (100_000, 2_000), (100_000, 10_000)))))
    bca = bench_bootstrap.interface(n=10_000 if q else 100_000, repeat=1 if q else 3)
    lines.append(bench_bootstrap.markdown_interface(bca))
    lines.append(bench_streaming.markdown(bench_streaming.run(1_000_000 if q else 10_000_000)))
    parquet = bench_streaming.interface(n=200_000 if q else 2_000_000, repeat=2 if q else 5)
    lines.append(bench_streaming.markdown_interface(parquet))
    report = bench_report.run(n=40_000 if q else 400_000, repeat=1 if q else 2, peer_n=5_000 if q else 20_000,
                              peer_b=50 if q else 200)
    lines.append(bench_report.markdown(report))
    lines.append(bench_planning.markdown(bench_planning.run_closed(), bench_planning.run_mc(replications=20 if q else 100)))
    startup = bench_startup.run(repeat=3 if q else 7, slow_repeat=1 if q else 3)
    lines.append(bench_startup.markdown(startup))
    regress = bench_regress.run(repeat=3 if q else 7, process_repeat=3 if q else 7)
    lines.append(bench_regress.markdown(regress))
    efa = bench_efa.run(repeat=3 if q else 7, process_repeat=2 if q else 5)
    lines.append(bench_efa.markdown(efa))
    with_app = True
    try:
        import httpx2  # noqa: F401  (the app extra and httpx2: `pip install -e '.[test,app]'`)
    except ImportError:
        with_app = False
    if with_app:
        lines.append(bench_app.markdown(bench_app.run(n_upload=50_000 if q else 200_000, n_report=5_000 if q else 20_000,
                                                      repeat=1 if q else 3)))
    big_file = HERE / "RESULTS_1e8.md"  # too slow for every run (a 1e8-row file); measured separately
    big = big_file.read_text() if big_file.exists() else None
    if big:
        lines.append(big)
    summary = issue16_summary(r, fiml, bca, parquet, report, startup, regress, efa, big)
    lines[lines.index(bench_scoring.markdown(r)):0] = [summary]
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        (HERE / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
