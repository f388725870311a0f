"""Timing helpers shared by the benchmarks: best-of-k wall time of a call, and of a whole process
(interpreter start, imports, reading, output) run with this checkout on PYTHONPATH."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).parent.parent


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """The shortest of ``repeat`` wall times of ``fn()``."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def repo_env() -> dict[str, str]:
    """The environment with this checkout first on PYTHONPATH (processes import this servmodels)."""
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def process_seconds(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Wall time of one whole process (its output discarded; a failure raises)."""
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0
