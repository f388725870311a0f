"""The one place raw survey input is checked (STYLE: read -> validate -> SurveyData).

Every problem is collected before anything is raised, so a user fixing a file
sees all of them at once.  Row numbers in messages are 1-based data rows (row 1
is the first respondent, on line 2 of a file with a header line).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._exceptions import (
    MAX_ROWS_SHOWN,
    ConstantItemWarning,
    ParameterError,
    Problem,
    ReverseKeyWarning,
    SingularDataWarning,
    SmallSampleWarning,
    ValidationError,
)
from ._numerics import item_diagnostics
from ._params import check_choice, check_type
from .data import SurveyData
from .instrument import Instrument, get_instrument

__all__ = ["validate_survey", "NanPolicy"]

NanPolicy = Literal["raise", "omit", "fiml"]
#: set by servmodels.streaming while it validates chunks: the data-level warnings that need the whole
#: file (singular item sets, the reverse-key check) are skipped per chunk (the stream derives its
#: warnings from the merged moments); errors are checked exactly as always
CHUNK_MODE: ContextVar[bool] = ContextVar("servmodels_chunk_mode", default=False)
_NAN_POLICIES = ("raise", "omit", "fiml")


def _int_dtype_for(lo: int, hi: int) -> type[np.signedinteger[Any]]:
    for dt in (np.int8, np.int16, np.int32):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return dt
    return np.int64


def _examples(values: Iterable[Any], limit: int = 3) -> str:
    shown = []
    for v in values:
        r = repr(v.item() if isinstance(v, np.generic) else v)
        if r not in shown:
            shown.append(r)
        if len(shown) == limit:
            break
    return ", ".join(shown)


def _problem(kind: str, column: str | None, detail: str, mask: np.ndarray | None, rows: np.ndarray) -> Problem:
    if mask is None:
        return Problem(kind, column, detail)
    hit = np.flatnonzero(mask)
    return Problem(kind, column, detail, tuple(int(r) for r in rows[hit[:MAX_ROWS_SHOWN]]), int(hit.size))


class _Checker:
    """Accumulates problems and missing-value masks while columns are checked."""

    def __init__(self, n: int, rows: np.ndarray):
        self.n = n
        self.rows = rows
        self.problems: list[Problem] = []
        self.missing: dict[str, np.ndarray] = {}
        # cells already reported as invalid (text) are not reported again as missing
        self.invalid: dict[str, np.ndarray] = {}
        # (min, max) of plain integer columns, from the range check (reused for the constant check)
        self.ranges: dict[str, tuple[Any, Any]] = {}

    def add(self, kind: str, column: str | None, detail: str, mask: np.ndarray | None = None) -> None:
        self.problems.append(_problem(kind, column, detail, mask, self.rows))

    def numeric(self, col: str, series: pd.Series) -> np.ndarray | None:
        """Float values of a column; text cells become problems, blanks become NaN."""
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype):
            self.add("non_numeric", col, "true/false values where numbers are expected", np.ones(self.n, bool))
            return None
        if pd.api.types.is_numeric_dtype(dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raw = series.astype(object).to_numpy()
            converted = pd.to_numeric(series.astype(object).where(series.notna()), errors="coerce")
            values = np.asarray(converted, dtype=np.float64)
            blank = pd.isna(raw) | np.array([isinstance(v, str) and not v.strip() for v in raw], dtype=bool)
            text = np.isnan(values) & ~blank
            if text.any():
                self.add("non_numeric", col, f"non-numeric text ({_examples(raw[text])})", text)
                self.invalid[col] = text
        return values

    def note_missing(self, col: str, values: np.ndarray | pd.Series) -> None:
        miss = np.array(pd.isna(values), dtype=bool)  # a copy: pd.isna of a Series can be read-only
        if col in self.invalid:
            miss &= ~self.invalid[col]
        if miss.any():
            self.missing[col] = miss


def _check_items(
    chk: _Checker, frame: pd.DataFrame, cols: Sequence[str], lo: int, hi: int
) -> dict[str, np.ndarray]:
    """Check Likert item columns; return their values (float with NaN, or int)."""
    out: dict[str, np.ndarray] = {}
    for col in cols:
        series = frame[col]
        dtype = series.dtype
        if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            # fast path for plain integer arrays: no missing values, no fractions possible
            values = series.to_numpy()
            vmin, vmax = (values.min(), values.max()) if values.size else (lo, hi)
            chk.ranges[col] = (vmin, vmax)
            if vmin < lo or vmax > hi:
                bad = (values < lo) | (values > hi)
                chk.add("out_of_range", col, f"values outside the scale {lo}-{hi} ({_examples(values[bad])})", bad)
            out[col] = values
            continue
        numeric = chk.numeric(col, series)
        if numeric is None:
            continue
        values = numeric
        finite = ~np.isnan(values)
        frac = finite & (values != np.floor(np.where(finite, values, 0)))
        if frac.any():
            chk.add("non_integer", col, f"non-integer Likert values ({_examples(values[frac])})", frac)
        bad = finite & ((values < lo) | (values > hi))
        if bad.any():
            chk.add("out_of_range", col, f"values outside the scale {lo}-{hi} ({_examples(values[bad])})", bad)
        chk.note_missing(col, values)
        out[col] = values
    return out


def _resolve_columns(
    instrument: Instrument,
    *,
    scale: tuple[int, int] | None,
    score_sets: Iterable[str] | None,
    column_map: Mapping[str, str] | None,
    outcome: str | None,
    respondent_id: str | None,
    groups: Iterable[str] | None,
    importance: Mapping[str, str] | None,
) -> Instrument:
    changes: dict[str, Any] = {}
    if scale is not None:
        changes["scale"] = tuple(scale)
    if score_sets is not None:
        instrument = instrument.with_score_sets([score_sets] if isinstance(score_sets, str) else score_sets)
    if column_map is not None:
        changes["column_map"] = {**instrument.column_map, **column_map}
    if outcome is not None:
        changes["outcome"] = outcome
    if respondent_id is not None:
        changes["respondent_id"] = respondent_id
    if groups is not None:
        changes["groups"] = tuple(groups)
    if importance is not None:
        changes["importance"] = dict(importance)
    return instrument.with_columns(**changes) if changes else instrument


#: the key check looks at no more than this many complete respondents (a warning, not an estimate)
_KEY_CHECK_ROWS = 200_000


#: the compiled cross-products of the key check are used from this many answers on (as scoring's)
KERNEL_MIN_CELLS = 25_000_000
#: rows per block of the exact float32 cross-products of the key check
_HEAD_BLOCK = 16_384
#: respondents of the quick singularity screen (the full check runs only when it finds something)
_DIAG_HEAD_ROWS = 20_000


def _integer_head_moments(arr: np.ndarray, inst: Instrument) -> dict[str, tuple[int, np.ndarray, np.ndarray]]:
    """Per dimension: rows m, column sums and cross-product matrix X'X of the first
    :data:`_KEY_CHECK_ROWS` respondents (integer answers, none missing), exact.

    Summed in float32 blocks of :data:`_HEAD_BLOCK` rows while every block sum stays below 2**24
    (exact integers; else float64), as int64: the same numbers as ``np.corrcoef`` would start from,
    without a float64 copy of 200 000 rows per dimension."""
    head = arr[:_KEY_CHECK_ROWS]
    m = head.shape[0]
    groups = {d: [inst.items.index(i) for i in items] for d, items in inst.dimensions.items() if len(items) >= 2}
    from ._compiled import kernels

    k = kernels(arr.size, KERNEL_MIN_CELLS)
    if k is not None and arr.flags.f_contiguous and m:
        out = {}
        for d, idx in groups.items():
            cols = np.array(idx, dtype=np.int64)
            pairs = np.array([(a, b) for a in idx for b in idx], dtype=np.int64)
            total = np.zeros(len(idx), dtype=np.int64)
            cross = np.zeros(len(pairs), dtype=np.int64)
            k.pair_sums(arr.T, m, cols, pairs, total, cross)
            out[d] = (m, total, cross.reshape(len(idx), len(idx)))
        return out
    biggest = float(np.abs(head).max()) if m else 0.0
    dtype = np.float32 if _HEAD_BLOCK * biggest * biggest < 2**24 else np.float64
    order = [j for idx in groups.values() for j in idx]
    spans, at = {}, 0
    for d, idx in groups.items():
        spans[d] = (at, at + len(idx))
        at += len(idx)
    # Fortran order: each column is copied (and converted) contiguously, each dimension a column block
    buf = np.empty((min(m, _HEAD_BLOCK), len(order)), dtype=dtype, order="F")
    cross = {d: np.zeros((b - a, b - a), dtype=np.int64) for d, (a, b) in spans.items()}
    total = np.array([int(head[:, j].sum(dtype=np.int64)) for j in order], dtype=np.int64)
    for start in range(0, m, _HEAD_BLOCK):
        rows = min(_HEAD_BLOCK, m - start)
        x = buf[:rows]
        for jj, j in enumerate(order):
            x[:, jj] = head[start : start + rows, j]
        for d, (a, b) in spans.items():
            xd = x[:, a:b]
            cross[d] += np.rint(xd.T @ xd).astype(np.int64)
    return {d: (m, total[a:b], cross[d]) for d, (a, b) in spans.items()}


def _item_diagnostics(responses: Mapping[str, np.ndarray], item_cols: Mapping[str, Sequence[str]]) -> list[str]:
    """:func:`servmodels._numerics.item_diagnostics`, screened on the first respondents first.

    An exact linear relation among integer answers (identical, perfectly correlated or collinear
    items, a constant item) that holds for all respondents holds for the first ones too, so when
    the first :data:`_DIAG_HEAD_ROWS` show no finding at all, the whole data show none; otherwise
    the full check runs and its findings are reported."""
    if all(a.dtype.kind == "i" and a.shape[0] > _DIAG_HEAD_ROWS for a in responses.values()):
        head = {s: a[:_DIAG_HEAD_ROWS] for s, a in responses.items()}
        if not item_diagnostics(head, item_cols, constant=True):
            return []
    return item_diagnostics(responses, item_cols)


def _key_check(inst: Instrument, responses: Mapping[str, np.ndarray]) -> str | None:
    """Message naming the items that look reverse-keyed, or None.

    Per score set and dimension, the items' loadings on the first principal
    component of their correlation matrix, signed so that they sum to a positive
    number (``psych::principal``); an item with a negative loading correlates
    negatively with what the other items measure (``psych::alpha(check.keys)``).
    A two-item dimension is flagged when its two items correlate negatively.
    """
    flagged: dict[str, list[str]] = {}
    for s, arr in responses.items():
        cols = inst.columns(s)
        exact = _integer_head_moments(arr, inst) if arr.dtype.kind == "i" else None
        for dim, items in inst.dimensions.items():
            if len(items) < 2:
                continue
            idx = [inst.items.index(i) for i in items]
            if exact is not None:
                m, total, cross = exact[dim]
                if m < 3:
                    continue
                # exact integer moments: centred cross-products m X'X - t t' (Python-sized integers)
                centred = m * cross.astype(object) - np.outer(total.astype(object), total.astype(object))
                var = np.diag(centred)
                if np.any(var == 0):
                    continue  # constant items are warned about separately; correlations undefined
                c = centred.astype(np.float64)
                sd = np.sqrt(np.diag(c))
                r = c / np.outer(sd, sd)
                np.fill_diagonal(r, 1.0)
            else:
                x = np.asarray(arr[:_KEY_CHECK_ROWS * 2, idx], dtype=np.float64)
                x = x[~np.isnan(x).any(axis=1)][:_KEY_CHECK_ROWS]
                if x.shape[0] < 3:
                    continue
                sd = x.std(axis=0)
                if np.any(sd == 0):
                    continue  # constant items are warned about separately; correlations undefined
                r = np.corrcoef(x, rowvar=False)
            if len(idx) == 2:
                if r[0, 1] < 0:
                    flagged.setdefault(dim, []).extend([cols[idx[0]], cols[idx[1]]])
                continue
            w, v = np.linalg.eigh(r)
            load = v[:, -1] * np.sqrt(max(w[-1], 0.0))
            if load.sum() < 0:
                load = -load
            neg = [cols[idx[k]] for k in np.flatnonzero(load < 0)]
            if neg:
                flagged.setdefault(dim, []).extend(neg)
    if not flagged:
        return None
    by_column = {inst.column(s, i): i for s in inst.score_sets for i in inst.items}
    declared = set(inst.reverse)
    fresh = {d: [c for c in cs if by_column.get(c) not in declared] for d, cs in flagged.items()}
    again = {d: [c for c in cs if by_column.get(c) in declared] for d, cs in flagged.items()}
    msgs = []
    if any(fresh.values()):
        parts = [f"{', '.join(c)} ({d})" for d, c in fresh.items() if c]
        items = list(dict.fromkeys(by_column.get(c, c) for cs in fresh.values() for c in cs))
        everything = [i for i in inst.items if i in declared or i in items]
        multi = " (an item is recoded in every score set)" if len(inst.score_sets) > 1 else ""
        msgs.append(
            f"item(s) correlating negatively with their dimension, probably reverse-keyed: {'; '.join(parts)}; "
            f"if they are, declare them (instrument reverse: [{', '.join(everything)}] or --reverse "
            f"{','.join(everything)}){multi}; alpha, omega and factor models are wrong otherwise"
        )
    if any(again.values()):
        parts = [f"{', '.join(c)} ({d})" for d, c in again.items() if c]
        msgs.append(
            f"item(s) declared reverse-keyed still correlate negatively with their dimension after recoding: "
            f"{'; '.join(parts)}; check that they really are reverse-keyed"
        )
    return "; ".join(msgs)


def survey_from_arrays(
    columns: Mapping[str, np.ndarray],
    instrument: Instrument,
    *,
    row_offset: int = 0,
    source: str | None = None,
    **options: Any,
) -> SurveyData | None:
    """:func:`validate_survey` for the common case of columns that are plain integer arrays (e.g.
    zero-copy views of Arrow buffers), without building a DataFrame.

    Returns the same SurveyData as ``validate_survey(pd.DataFrame(columns), instrument, ...)`` (chunk
    mode: without the whole-data warnings), or None when the quick checks cannot decide - a column
    missing, not integer, out of range, or the instrument needing id, outcome, group or importance
    columns - so that the caller runs :func:`validate_survey`, which names every problem.
    """
    if not CHUNK_MODE.get():  # in memory, the whole-data warnings need the full validation
        return None
    if set(options) - {"scale", "score_sets", "column_map", "respondent_id", "nan_policy"}:
        return None
    if options.get("respondent_id") is not None:
        return None
    inst = _resolve_columns(instrument, scale=options.get("scale"), score_sets=options.get("score_sets"),
                            column_map=options.get("column_map"), outcome=None, respondent_id=None, groups=None,
                            importance=None)
    if inst.respondent_id or inst.outcome or inst.groups or inst.importance:
        return None
    item_cols = {s: inst.columns(s) for s in inst.score_sets}
    arrays = []
    for cols in item_cols.values():
        for c in cols:
            a = columns.get(c)
            if a is None or a.ndim != 1 or a.dtype.kind not in "iu":
                return None
            arrays.append(a)
    n = len(arrays[0]) if arrays else 0
    if n == 0 or any(len(a) != n for a in arrays):
        return None
    lo, hi = inst.scale
    ranges = [(a.min(), a.max()) for a in arrays]
    if any(vmin < lo or vmax > hi for vmin, vmax in ranges):
        return None
    dt = _int_dtype_for(lo, hi)
    stacked = np.empty((n, len(arrays)), dtype=dt, order="F")
    reverse_idx = {inst.items.index(i) for i in inst.reverse}
    p = len(inst.items)
    for j, a in enumerate(arrays):
        stacked[:, j] = a
        if j % p in reverse_idx:
            np.subtract(lo + hi, stacked[:, j], out=stacked[:, j])
    stacked.flags.writeable = False
    responses = {}
    for k, s in enumerate(item_cols):
        view = stacked[:, k * p : (k + 1) * p]
        view.flags.writeable = False
        responses[s] = view
    return SurveyData(instrument=inst, responses=responses,
                      rows=np.arange(row_offset + 1, row_offset + n + 1, dtype=np.int64),
                      groups=pd.DataFrame(index=pd.RangeIndex(n)), n_dropped=0, dropped_rows=(), source=source,
                      metadata={}, warnings=())


def validate_survey(
    frame: pd.DataFrame,
    instrument: Instrument | str = "servqual25",
    *,
    scale: tuple[int, int] | None = None,
    score_sets: Iterable[str] | None = None,
    column_map: Mapping[str, str] | None = None,
    outcome: str | None = None,
    respondent_id: str | None = None,
    groups: Iterable[str] | None = None,
    importance: Mapping[str, str] | None = None,
    nan_policy: NanPolicy = "raise",
    source: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    row_offset: int = 0,
    reverse: Iterable[str] | str | None = None,
    check_keys: bool = True,
) -> SurveyData:
    """Check a DataFrame of responses against an instrument and build :class:`SurveyData`.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent.
    instrument : Instrument or str
        Layout (preset name, file path or object).  The keyword options below
        override the instrument's own settings for this call.
    scale : (int, int), optional
        Admissible Likert range.
    score_sets : sequence of str, optional
        Subset of the instrument's score sets to read (e.g. ``["P"]`` for a
        SERVPERF-only file).
    column_map : mapping, optional
        Default column name -> column in ``frame`` (e.g. ``{"P1": "perf_q1"}``).
    outcome, respondent_id : str, optional
        Overall-satisfaction and respondent-id columns.
    groups : sequence of str, optional
        Grouping columns such as village or gender.
    importance : mapping of str to str, optional
        Dimension -> column of importance points (weighted SERVQUAL).
    nan_policy : {"raise", "omit", "fiml"}
        ``"raise"`` (default) reports every missing answer as a problem;
        ``"omit"`` drops respondents with any missing answer (listwise) and
        records how many and which rows on the result; ``"fiml"`` keeps every
        respondent, missing item answers included (as NaN), for full-information
        estimation (``cfa(..., missing="fiml")``).  Missing values outside the items
        (outcome, groups, importance) are still reported.
    source : str, optional
        Name used in messages (file name).
    metadata : mapping, optional
        Format metadata to keep (SPSS labels).
    row_offset : int
        Added to row numbers (a chunk that starts at row 1 001 has offset 1 000).
    reverse : sequence of str or str, optional
        Reverse-keyed items (identifiers or column names; ``"A1,C4"`` also works),
        added to the instrument's own ``reverse`` list.  Their answers are recoded
        ``min + max - x`` before any analysis.
    check_keys : bool
        Warn (:class:`ReverseKeyWarning`) naming the items that load negatively on
        their dimension's first principal component, as ``psych::alpha``'s key
        check does: items that look reverse-keyed but were not declared.

    Returns
    -------
    SurveyData

    Raises
    ------
    ValidationError
        Listing every problem with its column and rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from servmodels import validate_survey
    >>> df = pd.DataFrame({"P1": [1, 2, 3], "P2": [4, "x", 2]})
    >>> inst = {"name": "mini", "dimensions": {"d": [1, 2]}, "score_sets": ["P"], "scale": [1, 4]}
    >>> validate_survey(df, inst)
    Traceback (most recent call last):
    ...
    servmodels._exceptions.ValidationError: invalid survey data (1 problem): column 'P2': non-numeric text ('x') at row 2
    """
    check_choice("nan_policy", nan_policy, _NAN_POLICIES)
    check_type("frame", frame, pd.DataFrame, "a pandas DataFrame")
    for name, value in (("outcome", outcome), ("respondent_id", respondent_id)):
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"{name} must be a column name (str); got {type(value).__name__}")
    if reverse is not None and not isinstance(reverse, str) and not (
            isinstance(reverse, Iterable) and all(isinstance(r, (str, int)) for r in reverse)):
        raise ParameterError(f"reverse must be item names or columns (a list of str, or 'A1,C4'); got {reverse!r}")
    base = get_instrument(instrument)
    if reverse is not None:
        base = base.with_reverse(reverse)  # against every score set's columns, before any narrowing
    inst = _resolve_columns(
        base,
        scale=scale,
        score_sets=score_sets,
        column_map=column_map,
        outcome=outcome,
        respondent_id=respondent_id,
        groups=groups,
        importance=importance,
    )
    n = len(frame)
    rows = np.arange(row_offset + 1, row_offset + n + 1, dtype=np.int64)
    chk = _Checker(n, rows)
    if frame.columns.duplicated().any():
        for col in frame.columns[frame.columns.duplicated()].unique():
            chk.add("duplicate_column", str(col), "column name appears more than once")
        raise ValidationError(chk.problems, source)

    # ---- columns that must exist
    item_cols = {s: inst.columns(s) for s in inst.score_sets}
    extra_cols = [c for c in (inst.respondent_id, inst.outcome) if c] + list(inst.groups) + list(inst.importance.values())
    present = set(map(str, frame.columns))
    frame = frame.rename(columns=str) if not all(isinstance(c, str) for c in frame.columns) else frame
    lower = {c.lower(): c for c in present}
    for col in [c for cols in item_cols.values() for c in cols] + extra_cols:
        if col not in present:
            hint = f" (found {lower[col.lower()]!r}; names are case-sensitive)" if col.lower() in lower else ""
            chk.add("missing_column", col, f"required column is missing{hint}")
    if n == 0:
        chk.add("empty", None, "the data have no respondent rows")
    if chk.problems:
        raise ValidationError(chk.problems, source)

    lo, hi = inst.scale
    values = {s: _check_items(chk, frame, cols, lo, hi) for s, cols in item_cols.items()}

    outcome_values = None
    if inst.outcome:
        outcome_values = chk.numeric(inst.outcome, frame[inst.outcome])
        if outcome_values is not None:
            chk.note_missing(inst.outcome, outcome_values)

    importance_values = None
    if inst.importance:
        imp_cols = list(inst.importance.values())
        arrays = [chk.numeric(c, frame[c]) for c in imp_cols]
        if all(a is not None for a in arrays):
            importance_values = np.column_stack(arrays)  # type: ignore[arg-type]
            for j, c in enumerate(imp_cols):
                neg = importance_values[:, j] < 0
                if neg.any():
                    chk.add("negative_weight", c, "negative importance points", neg)
                chk.note_missing(c, importance_values[:, j])
            allzero = np.nansum(np.abs(importance_values), axis=1) == 0
            allzero &= ~np.isnan(importance_values).any(axis=1)
            if allzero.any():
                chk.add("zero_weights", None, f"importance points ({', '.join(imp_cols)}) are all zero", allzero)

    ids = None
    if inst.respondent_id:
        id_series = frame[inst.respondent_id]
        id_missing = id_series.isna().to_numpy()
        if id_missing.any():
            chk.add("missing_value", inst.respondent_id, "missing respondent id", id_missing)
        dup = id_series.duplicated(keep=False).to_numpy() & ~id_missing
        if dup.any():
            chk.add("duplicate_id", inst.respondent_id, f"duplicate respondent ids ({_examples(id_series[dup])})", dup)
        ids = id_series.to_numpy()

    for g in inst.groups:
        chk.note_missing(g, frame[g])

    # ---- missing answers
    keep = np.ones(n, dtype=bool)
    item_set = {c for cols in item_cols.values() for c in cols}
    if nan_policy == "fiml":
        for col in [c for c in chk.missing if c not in item_set]:
            chk.add("missing_value", col, "missing values (only item answers may be missing with nan_policy='fiml')", chk.missing.pop(col))
        item_missing = dict(chk.missing)
        chk.missing.clear()
    else:
        item_missing = {}
    if chk.missing:
        if nan_policy == "raise":
            for col, miss in chk.missing.items():
                chk.add("missing_value", col, "missing values (use nan_policy='omit' to drop these respondents)", miss)
        else:
            for miss in chk.missing.values():
                keep &= ~miss
    if chk.problems:
        raise ValidationError(chk.problems, source)
    n_kept = int(keep.sum())
    if n_kept == 0:
        raise ValidationError(
            [Problem("empty", None, f"no respondent is left after dropping {n} with missing values")], source
        )

    dropped = tuple(int(r) for r in rows[~keep])
    reverse_idx = {inst.items.index(i) for i in inst.reverse}
    dt = _int_dtype_for(lo, hi)
    responses: dict[str, np.ndarray] = {}
    constant: list[str] = []
    # integer answers of all score sets go into one Fortran-ordered array, each set a view of it, so
    # the compiled scoring pass reads them without a copy (servmodels.scoring._stacked_answers)
    any_nan = any(c in item_missing for cols in item_cols.values() for c in cols)
    stacked = None if any_nan else np.empty((n_kept, sum(len(c) for c in item_cols.values())), dtype=dt, order="F")
    offset = 0
    for s, cols in item_cols.items():
        has_nan = any(c in item_missing for c in cols)
        if stacked is not None:
            arr = stacked[:, offset : offset + len(cols)]
            offset += len(cols)
        else:
            arr = np.empty((n_kept, len(cols)), dtype=np.float64 if has_nan else dt, order="F")
        for j, col in enumerate(cols):
            v = values[s][col]
            arr[:, j] = v if n_kept == n else v[keep]
            if j in reverse_idx:
                # reverse-keyed item: recode min + max - x before any analysis (NaN stays NaN)
                np.subtract(lo + hi, arr[:, j], out=arr[:, j])
            if n_kept > 1 and not has_nan:
                if n_kept == n and col in chk.ranges:  # the range check saw exactly these answers
                    vmin, vmax = chk.ranges[col]
                    is_constant = vmin == vmax
                else:
                    is_constant = arr[0, j] == arr[:, j].min() == arr[:, j].max()
                if is_constant:
                    constant.append(col)
        responses[s] = arr
    if stacked is not None:
        stacked.flags.writeable = False
    for s in responses:  # views made before the base became read-only are still writeable
        responses[s] = responses[s].view()
        responses[s].flags.writeable = False

    issued: list[str] = []
    if constant:
        msg = f"constant item(s) with zero variance: {', '.join(constant)}; correlations involving them are undefined"
        warnings.warn(msg, ConstantItemWarning, stacklevel=3)
        issued.append(msg)
    # singular item sets (identical or collinear items, n <= items), named before any model is fitted
    # (not per chunk of a stream, whose warnings come from the merged moments)
    for msg in [] if CHUNK_MODE.get() else _item_diagnostics(responses, item_cols):
        warnings.warn(msg, SingularDataWarning, stacklevel=3)
        issued.append(msg)
    if check_keys and not CHUNK_MODE.get():
        msg = _key_check(inst, responses)
        if msg:
            warnings.warn(msg, ReverseKeyWarning, stacklevel=3)
            issued.append(msg)
    if n_kept < 3:
        msg = f"only {n_kept} respondent(s) left; standard deviations and correlations are undefined or unstable"
        warnings.warn(msg, SmallSampleWarning, stacklevel=3)
        issued.append(msg)

    def kept(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        a = a if n_kept == n else a[keep]
        a = np.array(a, copy=True)
        a.flags.writeable = False
        return a

    if inst.groups:
        group_frame = frame.loc[:, list(inst.groups)]
        group_frame = (group_frame if n_kept == n else group_frame.iloc[np.flatnonzero(keep)]).reset_index(drop=True)
    else:
        group_frame = pd.DataFrame(index=pd.RangeIndex(n_kept))
    return SurveyData(
        instrument=inst,
        responses=responses,
        rows=rows[keep],
        outcome=kept(outcome_values),
        respondent_ids=kept(ids),
        groups=group_frame,
        importance=kept(importance_values),
        n_dropped=n - n_kept,
        dropped_rows=dropped,
        source=source,
        metadata=dict(metadata or {}),
        warnings=tuple(issued),
    )
