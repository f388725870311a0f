"""Small helpers shared by result objects (JSON-safe conversion, text tables)."""

from __future__ import annotations

import functools
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

    #: columns of the reverse-keyed items, recoded ``min + max - x`` before the analysis
    #: (recorded by the estimator from the data's instrument; empty when none)
    reverse_keyed: tuple[str, ...] = ()

    def _record_reverse(self, instrument: Any) -> None:
        """Record the instrument's reverse-keyed items on this (frozen) result."""
        cols = tuple(c for s in instrument.score_sets for c in instrument.reverse_columns(s))
        object.__setattr__(self, "reverse_keyed", cols)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every result states its reverse-keyed items the same way: each subclass's own
        # to_dict() gains a "reverse_keyed" key and its summary() a closing line.
        super().__init_subclass__(**kwargs)
        own_dict, own_summary = cls.__dict__.get("to_dict"), cls.__dict__.get("summary")
        if own_dict is not None and not getattr(own_dict, "_states_reverse", False):
            @functools.wraps(own_dict)
            def to_dict(self: Result, *args: Any, **kw: Any) -> dict[str, Any]:
                out = own_dict(self, *args, **kw)
                if isinstance(out, dict):
                    out["reverse_keyed"] = list(self.reverse_keyed)
                return out

            to_dict._states_reverse = True  # type: ignore[attr-defined]
            cls.to_dict = to_dict  # type: ignore[method-assign]
        if own_summary is not None and not getattr(own_summary, "_states_reverse", False):
            @functools.wraps(own_summary)
            def summary(self: Result, *args: Any, **kw: Any) -> str:
                text = own_summary(self, *args, **kw)
                if self.reverse_keyed:
                    text += f"\nReverse-keyed items (recoded min + max - x): {', '.join(self.reverse_keyed)}"
                return text

            summary._states_reverse = True  # type: ignore[attr-defined]
            cls.summary = summary  # type: ignore[method-assign]

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    def summary(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()
