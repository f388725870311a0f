"""The validated, instrument-aware survey container every estimator consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._exceptions import ParameterError, Problem, ValidationError
from .instrument import Instrument

__all__ = ["SurveyData"]


@dataclass(frozen=True, eq=False)
class SurveyData:
    """Validated survey responses, built only by :func:`servmodels.read_survey`
    or :func:`servmodels.validate_survey`.

    Estimators trust a ``SurveyData`` and never re-validate it.

    Attributes
    ----------
    instrument : Instrument
        Layout the data were validated against.
    responses : mapping of str to ndarray
        Score-set code (``"E"``, ``"P"``, ...) -> integer array of shape
        ``(n_respondents, n_items)`` in the instrument's item order, Fortran-ordered
        so an item's answers are contiguous.  Read-only; never contains missing values.
    outcome : ndarray or None
        Overall satisfaction (float), if the instrument names an outcome column.
    respondent_ids : ndarray or None
        Respondent identifiers, if named.
    groups : DataFrame
        Grouping columns (may have no columns).
    importance : ndarray or None
        Per-respondent importance points, shape ``(n_respondents, n_dimensions)``.
    rows : ndarray
        1-based row number in the source of every retained respondent.
    n_dropped : int
        Respondents dropped by ``nan_policy="omit"``.
    dropped_rows : tuple of int
        Their 1-based row numbers in the source.
    source : str or None
        File name or ``"<DataFrame>"``.
    metadata : dict
        Format metadata, e.g. SPSS value and variable labels.
    warnings : tuple of str
        Messages of the warnings issued during validation.
    """

    instrument: Instrument
    responses: Mapping[str, np.ndarray]
    rows: np.ndarray
    outcome: np.ndarray | None = None
    respondent_ids: np.ndarray | None = None
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    importance: np.ndarray | None = None
    n_dropped: int = 0
    dropped_rows: tuple[int, ...] = ()
    source: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def n_respondents(self) -> int:
        """Number of respondents retained (used by every analysis)."""
        return int(self.rows.shape[0])

    @property
    def score_sets(self) -> tuple[str, ...]:
        return tuple(self.responses)

    @property
    def has_missing(self) -> bool:
        """True when item answers are missing (only with ``nan_policy="fiml"``)."""
        return any(a.dtype.kind == "f" and bool(np.isnan(a).any()) for a in self.responses.values())

    @property
    def default_scores(self) -> str:
        """The score set analysed when none is named: the only one read, else ``"P"``."""
        return self.instrument.default_scores()

    def require_complete(self, what: str) -> None:
        """Raise a clear error for analyses that need every answer."""
        if self.has_missing:
            raise ValidationError([Problem(
                "missing_value", None,
                f"{what} needs complete answers, but some are missing (read with nan_policy='fiml'); "
                "read the data with nan_policy='omit' for this analysis, or use cfa(..., missing='fiml')",
            )], self.source)

    def require(self, *score_sets: str) -> None:
        """Raise a clear error when a needed score set was not read."""
        missing = [s for s in score_sets if s not in self.responses]
        if missing:
            names = ", ".join(f"{s} ({self.instrument.set_name(s)})" if self.instrument.set_name(s) != s else s
                              for s in missing)
            raise ValidationError([Problem(
                "missing_column", None,
                f"this analysis needs score set(s) {names}, which were not read; "
                f"available: {', '.join(self.responses) or 'none'}",
            )], self.source)

    def item_scores(self, scores: str) -> np.ndarray:
        """Item-level array for a score set code or a gap name (``"gap"`` = P − E).

        Gap arrays are returned as small signed integers.
        """
        if scores in self.responses:
            return self.responses[scores]
        code = self.instrument.set_code(scores)
        if code in self.responses:
            return self.responses[code]
        gaps = self.instrument.gaps
        if scores in gaps:
            a, b = gaps[scores]
            self.require(a, b)
            if self.responses[a].dtype.kind == "f" or self.responses[b].dtype.kind == "f":
                return np.subtract(self.responses[a], self.responses[b], dtype=np.float64)
            return np.subtract(self.responses[a], self.responses[b], dtype=np.int16)
        known = list(self.responses) + [g for g, (a, b) in gaps.items() if a in self.responses and b in self.responses]
        raise ParameterError(f"scores must be one of {', '.join(map(repr, known))}; got {scores!r}")

    def item_columns(self, scores: str) -> tuple[str, ...]:
        """Column labels for :meth:`item_scores` (``"gap1"`` style for gaps)."""
        code = self.instrument.set_code(scores)
        if code is not None:
            return self.instrument.columns(code)
        return tuple(f"{scores}{i}" for i in self.instrument.items)

    def to_frame(self) -> pd.DataFrame:
        """Back to a flat DataFrame with the instrument's column names."""
        parts: dict[str, Any] = {}
        if self.respondent_ids is not None:
            parts[self.instrument.respondent_id or "respondent_id"] = self.respondent_ids
        for s, arr in self.responses.items():
            for j, col in enumerate(self.instrument.columns(s)):
                parts[col] = arr[:, j]
        if self.outcome is not None:
            parts[self.instrument.outcome or "outcome"] = self.outcome
        if self.importance is not None:
            for j, col in enumerate(self.instrument.importance.values()):
                parts[col] = self.importance[:, j]
        frame = pd.DataFrame(parts, index=pd.Index(self.rows, name="row"))
        for g in self.groups.columns:
            frame[g] = self.groups[g].to_numpy()
        return frame

    def take(self, indices: np.ndarray) -> SurveyData:
        """Subset of respondents by 0-based position (for chunks and resampling)."""
        idx = np.asarray(indices)

        def sub(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        responses = {}
        for s, arr in self.responses.items():
            out = np.asfortranarray(arr[idx])
            out.flags.writeable = False
            responses[s] = out
        return SurveyData(
            instrument=self.instrument,
            responses=responses,
            rows=self.rows[idx],
            outcome=sub(self.outcome),
            respondent_ids=sub(self.respondent_ids),
            groups=self.groups.iloc[idx].reset_index(drop=True),
            importance=sub(self.importance),
            n_dropped=self.n_dropped,
            dropped_rows=self.dropped_rows,
            source=self.source,
            metadata=self.metadata,
            warnings=self.warnings,
        )

    def __repr__(self) -> str:
        return (
            f"SurveyData(instrument={self.instrument.name!r}, n_respondents={self.n_respondents}, "
            f"n_dropped={self.n_dropped}, score_sets={self.score_sets})"
        )
