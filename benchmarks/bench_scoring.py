"""Scoring throughput: servmodels vs a plain pandas implementation, same data, same run.

Data: n respondents x 50 Likert items (25 E + 25 P, servqual25 layout, 1-5, int8).
Both sides produce respondent-level dimension scores (E, P, gap, overall) and
item/dimension means and SDs.  servmodels' time also includes validation (range,
integer and missing checks), which the pandas baseline skips.
"""

from __future__ import annotations

import gc
import time

import numpy as np
import pandas as pd

import servmodels as sm

INST = sm.get_instrument("servqual25").with_scale(1, 5)


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arr = rng.integers(1, 6, size=(n, 50), dtype=np.int8)
    cols = list(INST.columns("E")) + list(INST.columns("P"))
    return pd.DataFrame(arr, columns=cols)


def pandas_baseline(df: pd.DataFrame) -> dict:
    out = {}
    resp = {}
    for d, items in INST.dimensions.items():
        e = df[[f"E{i}" for i in items]].mean(axis=1)
        p = df[[f"P{i}" for i in items]].mean(axis=1)
        resp[f"expectation_{d}"], resp[f"perception_{d}"], resp[f"gap_{d}"] = e, p, p - e
    resp = pd.DataFrame(resp)
    for s in ("expectation", "perception", "gap"):
        resp[f"{s}_overall"] = resp[[f"{s}_{d}" for d in INST.dimensions]].mean(axis=1)
    gaps = pd.DataFrame({f"G{i}": df[f"P{i}"] - df[f"E{i}"] for i in INST.items})
    out["item_means"] = pd.concat([df.mean(), gaps.mean()])
    out["item_sds"] = pd.concat([df.std(), gaps.std()])
    out["dimensions"] = resp.agg(["mean", "std"])
    out["respondents"] = resp
    return out


def servmodels_score(df: pd.DataFrame) -> sm.ScoreResult:
    return sm.score(sm.validate_survey(df, INST))


def best_of(fn, *args, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times)


def interface_score(df: pd.DataFrame) -> sm.ScoreResult:
    """The call of issue 16's interface check: a DataFrame straight into ``score``."""
    return sm.score(df, instrument="servqual25", scale=(1, 5))


def validate_and_moments(df: pd.DataFrame) -> sm.ScoreMoments:
    """In-memory validate + mergeable moments (no respondent table): the streaming per-chunk work."""
    from servmodels.scoring import score_moments

    return score_moments(sm.validate_survey(df, INST, check_keys=False))


def run(n: int = 1_000_000, repeat: int = 3) -> dict:
    import os
    import warnings

    warnings.simplefilter("ignore", sm.ServmodelsWarning)  # random answers look reverse-keyed
    df = make_data(n)
    # same numbers from both (checked, so the comparison is of equal work); the first calls also load
    # the compiled kernels, so the timed calls measure the steady state
    ours, theirs = servmodels_score(df), pandas_baseline(df)
    np.testing.assert_allclose(ours.dimensions.loc["assurance", "gap"], theirs["dimensions"].loc["mean", "gap_assurance"], rtol=1e-9)
    np.testing.assert_allclose(ours.items["gap_sd"].to_numpy(), theirs["item_sds"].iloc[50:].to_numpy(), rtol=1e-9)
    interface_score(df)
    validate_and_moments(df)
    out = {"n_respondents": n, "n_items": 50}
    for mode in ("compiled", "numpy"):
        if mode == "numpy":
            os.environ["SERVMODELS_NO_NUMBA"] = "1"
        try:
            out[f"{mode}_validate_score_s"] = best_of(servmodels_score, df, repeat=repeat)
            out[f"{mode}_interface_s"] = best_of(interface_score, df, repeat=repeat)
            out[f"{mode}_moments_s"] = best_of(validate_and_moments, df, repeat=repeat)
        finally:
            os.environ.pop("SERVMODELS_NO_NUMBA", None)
    t_pandas = best_of(pandas_baseline, df, repeat=repeat)
    out.update({
        "servmodels_s": out["compiled_validate_score_s"],
        "pandas_s": t_pandas,
        "servmodels_rows_per_s": n / out["compiled_validate_score_s"],
        "pandas_rows_per_s": n / t_pandas,
        "speedup": t_pandas / out["compiled_validate_score_s"],
        "interface_speedup": t_pandas / out["compiled_interface_s"],
        "moments_rows_per_s": n / out["compiled_moments_s"],
        "numpy_interface_speedup": t_pandas / out["numpy_interface_s"],
        "numpy_moments_rows_per_s": n / out["numpy_moments_s"],
    })
    return out


def markdown(r: dict) -> str:
    n = r["n_respondents"]
    return "\n".join([
        "## Scoring throughput (`benchmarks/bench_scoring.py`)",
        "",
        f"{n:,} respondents x 50 Likert items (25 E + 25 P, int8, scale 1-5), best of k, same run. servmodels",
        "includes validation (range, integer and missing checks, constant items, singular item sets, the",
        "reverse-key check); `compiled` = numba kernels loaded, `numpy` = SERVMODELS_NO_NUMBA=1.",
        "",
        "| job | compiled s | numpy s | pandas baseline s | compiled speed-up | rows/s (compiled) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `sm.score(df, instrument=\"servqual25\", scale=(1, 5))` | {r['compiled_interface_s']:.3f} | "
        f"{r['numpy_interface_s']:.3f} | {r['pandas_s']:.3f} | {r['interface_speedup']:.1f}x | "
        f"{n / r['compiled_interface_s']:,.0f} |",
        f"| `validate_survey` + `score` | {r['compiled_validate_score_s']:.3f} | {r['numpy_validate_score_s']:.3f} | "
        f"{r['pandas_s']:.3f} | {r['speedup']:.1f}x | {r['servmodels_rows_per_s']:,.0f} |",
        f"| `validate_survey` + `score_moments` (in memory, no respondent table) | {r['compiled_moments_s']:.3f} | "
        f"{r['numpy_moments_s']:.3f} | | | {r['moments_rows_per_s']:,.0f} |",
        "",
        "Targets (issue 16 part 5): `sm.score(df, ...)` >= 20x the pandas baseline; in-memory validate + score",
        ">= 30 M rows/s.",
        "",
    ])


if __name__ == "__main__":
    import json

    result = run(repeat=5)
    print(json.dumps(result, indent=2))
    print(markdown(result))
