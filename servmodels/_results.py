"""Small helpers shared by result objects (JSON-safe conversion, text tables)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON types (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def text_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """Plain-text rendering with fixed decimals (no global pandas options touched)."""
    def fmt(v: Any) -> str:
        if isinstance(v, (float, np.floating)):
            return "—" if not np.isfinite(v) else f"{v:.{digits}f}"
        return str(v)

    cells = [[str(c) for c in frame.columns]] + [[fmt(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(r[j]) for r in cells) for j in range(len(cells[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


#: column names every parameter/estimate table uses, in this order
ESTIMATE_COLUMNS = ("estimate", "se", "z", "p_value", "ci_low", "ci_high")


class Result:
    """Base of every public result (frozen dataclasses subclass it).

    Every result offers the same small surface, so a report, the CLI and a user's
    notebook treat them alike:

    - ``to_frame()``: the main table as a DataFrame (columns named as in
      :data:`ESTIMATE_COLUMNS` where they apply);
    - ``to_dict()``: a JSON-safe dict (NaN becomes ``None``);
    - ``summary()``: plain text for a terminal;
    - ``warnings``: the warnings issued while computing it (tuple of str);
    - ``n_respondents`` and ``n_dropped``: respondents used and dropped.
    """

    warnings: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def summary(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()
