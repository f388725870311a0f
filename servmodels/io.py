"""Reading survey files: CSV, Excel, SPSS, Stata, Parquet, or a DataFrame.

All formats go through :func:`servmodels.validate_survey`; nothing here checks
values.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ._exceptions import DataFileError, DataFileNotFoundError, ParameterError, Problem, ValidationError
from ._validation import NanPolicy, validate_survey
from .data import SurveyData
from .instrument import Instrument

__all__ = ["read_survey", "read_table", "SUPPORTED_FORMATS"]

SUPPORTED_FORMATS = {
    ".csv": "CSV (comma, semicolon or tab separated)",
    ".tsv": "tab-separated text",
    ".txt": "delimited text",
    ".xlsx": "Excel workbook",
    ".xlsm": "Excel workbook",
    ".sav": "SPSS data file",
    ".zsav": "compressed SPSS data file",
    ".dta": "Stata data file",
    ".parquet": "Parquet",
    ".pq": "Parquet",
}


def _sniff_separator(path: Path) -> str:
    # Indonesian/European spreadsheet exports often use ';' because ',' is the decimal mark.
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_table(path: str | Path, *, sheet: str | int | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a data file into a DataFrame without interpreting it.

    Returns the frame and a metadata dict (for SPSS: ``value_labels`` and
    ``variable_labels``; for every format: ``format``).

    Raises
    ------
    DataFileError
        When the file is missing, of an unknown format, or unreadable.
    ValidationError
        When the file holds no header or no rows.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_FORMATS:
        raise DataFileError(
            f"cannot read {str(path)!r}: unsupported file type {ext or '(none)'}; "
            f"use one of {', '.join(sorted(SUPPORTED_FORMATS))}"
        )
    if path.is_dir():
        raise DataFileError(f"cannot read {str(path)!r}: it is a directory, not a file")
    if not path.is_file():
        raise DataFileNotFoundError(f"cannot read {str(path)!r}: no such file")
    meta: dict[str, Any] = {"format": SUPPORTED_FORMATS[ext]}
    try:
        if ext in (".csv", ".tsv", ".txt"):
            sep = "\t" if ext == ".tsv" else _sniff_separator(path)
            frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig", skipinitialspace=True)
        elif ext in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, engine="openpyxl")
        elif ext in (".sav", ".zsav"):
            import pyreadstat

            frame, m = pyreadstat.read_sav(str(path), apply_value_formats=False)
            meta["value_labels"] = {k: {str(kk): vv for kk, vv in v.items()} for k, v in m.variable_value_labels.items()}
            meta["variable_labels"] = {k: v for k, v in m.column_names_to_labels.items() if v}
        elif ext == ".dta":
            with pd.io.stata.StataReader(path) as reader:
                frame = reader.read(convert_categoricals=False)  # type: ignore[attr-defined]
                meta["value_labels"] = reader.value_labels()
                meta["variable_labels"] = reader.variable_labels()
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise ValidationError([Problem("empty", None, "the file is empty")], str(path)) from None
    except (OSError, ValueError, ImportError, KeyError) as exc:
        raise DataFileError(f"cannot read {str(path)!r} as {meta['format']}: {exc}") from None
    except Exception as exc:  # parser-specific errors (pyreadstat, pyarrow, openpyxl)
        raise DataFileError(f"cannot read {str(path)!r} as {meta['format']}: {type(exc).__name__}: {exc}") from None
    return frame, meta


def read_survey(
    source: str | Path | pd.DataFrame,
    instrument: Instrument | str = "servqual25",
    *,
    scale: tuple[int, int] | None = None,
    score_sets: Iterable[str] | None = None,
    column_map: Mapping[str, str] | None = None,
    outcome: str | None = None,
    respondent_id: str | None = None,
    groups: str | Iterable[str] | None = None,
    importance: Mapping[str, str] | None = None,
    nan_policy: NanPolicy = "raise",
    sheet: str | int | None = None,
    reverse: Iterable[str] | str | None = None,
    check_keys: bool = True,
) -> SurveyData:
    """Read and validate a survey from a file or a DataFrame.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv``/``.tsv``/``.txt``, ``.xlsx``, ``.sav``/``.zsav`` (SPSS; value labels
        kept in ``metadata``), ``.dta``, ``.parquet``, or a DataFrame.
    instrument : Instrument or str
        Preset name (``"servqual25"``, ``"servqual22"``), YAML/JSON path or object.
    scale, score_sets, column_map, outcome, respondent_id, groups, importance, nan_policy, reverse, check_keys
        See :func:`validate_survey`.
    sheet : str or int, optional
        Excel sheet (default: the first).

    Returns
    -------
    SurveyData

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> data = read_survey(load_example(), outcome="satisfaction", groups=["village"])
    >>> data.n_respondents, data.n_dropped
    (100, 0)
    """
    from ._params import check_str_list

    groups = check_str_list("groups", groups)
    if isinstance(source, pd.DataFrame):
        frame, meta, name = source, {"format": "DataFrame"}, "<DataFrame>"
    elif not isinstance(source, (str, os.PathLike)):
        raise ParameterError(f"source must be a file path or a pandas DataFrame; got {type(source).__name__}")
    else:
        frame, meta = read_table(source, sheet=sheet)
        name = str(source)
    return validate_survey(
        frame,
        instrument,
        scale=scale,
        score_sets=score_sets,
        column_map=column_map,
        outcome=outcome,
        respondent_id=respondent_id,
        groups=groups,
        importance=importance,
        nan_policy=nan_policy,
        source=name,
        metadata=meta,
        reverse=reverse,
        check_keys=check_keys,
    )
