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


def run(n: int = 1_000_000, repeat: int = 3) -> dict:
    df = make_data(n)
    # same numbers from both (checked, so the comparison is of equal work)
    ours, theirs = servmodels_score(df), pandas_baseline(df)
    np.testing.assert_allclose(ours.dimensions.loc["assurance", "gap"], theirs["dimensions"].loc["mean", "gap_assurance"], rtol=1e-9)
    np.testing.assert_allclose(ours.items["gap_sd"].to_numpy(), theirs["item_sds"].iloc[50:].to_numpy(), rtol=1e-9)
    t_ours = best_of(servmodels_score, df, repeat=repeat)
    t_pandas = best_of(pandas_baseline, df, repeat=repeat)
    return {
        "n_respondents": n,
        "n_items": 50,
        "servmodels_s": t_ours,
        "pandas_s": t_pandas,
        "servmodels_rows_per_s": n / t_ours,
        "pandas_rows_per_s": n / t_pandas,
        "speedup": t_pandas / t_ours,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
