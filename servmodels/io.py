"""Reading survey files: CSV, Excel, SPSS, Stata, Parquet, or a DataFrame.

All formats go through :func:`servmodels.validate_survey`; nothing here checks
values.  What is decided here is how a file's bytes become a table: the text
encoding (detected: UTF-8, UTF-8 with a byte-order mark, UTF-16 with one, else
cp1252, else Latin-1), the separator and the decimal mark of delimited text, the
sheet of a workbook, and surrounding whitespace in column names.  Every decision
that is not the plain default is written as a human note to ``metadata["notes"]``
(the CLI prints them as ``servmodels: note: ...``).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._exceptions import (
    DataFileError,
    DataFileNotFoundError,
    ParameterError,
    Problem,
    ServmodelsError,
    ValidationError,
)
from ._validation import NanPolicy, validate_survey
from .data import SurveyData
from .instrument import Instrument

__all__ = ["read_survey", "read_table", "SUPPORTED_FORMATS"]

SUPPORTED_FORMATS = {
    ".csv": "CSV (comma, semicolon, tab or pipe separated)",
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

_TEXT = (".csv", ".tsv", ".txt")
_EXCEL = (".xlsx", ".xlsm")
_SPSS = (".sav", ".zsav")
#: separators tried, in order of preference when two fit equally well
_SEPARATORS = (",", ";", "\t", "|")
#: characters of the head of a text file used to choose the separator
_SNIFF_CHARS = 64 * 1024
#: a cell holding a number written with a decimal comma ("3,5", "-0,25", "4"); thousands marks are not numbers here
_COMMA_NUMBER = r"\s*[+-]?(?:\d+(?:,\d*)?|,\d+)\s*"


def _names(names: Sequence[Any], limit: int = 3) -> str:
    """``'a', 'b', 'c' and 4 more`` (each name cut to 40 characters): messages stay one short line."""
    shown = [repr(n if len(str(n)) <= 40 else str(n)[:37] + "...") for n in names[:limit]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- parameters


def _check_encoding(encoding: Any) -> str | None:
    if encoding is None:
        return None
    try:
        info = codecs.lookup(encoding) if isinstance(encoding, str) and encoding.strip() else None
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        shown = repr(encoding) if isinstance(encoding, str) else f"{type(encoding).__name__} {encoding!r}"
        raise ParameterError(
            f"encoding must be the name of a text encoding such as 'utf-8', 'cp1252' or 'latin-1'; got {shown[:60]}"
        )
    return encoding


def _check_decimal(decimal: Any) -> str | None:
    if decimal is None or (isinstance(decimal, str) and decimal in (".", ",")):
        return decimal
    raise ParameterError(f"decimal must be '.' or ','; got {decimal!r}"[:120])


def _check_sheet(sheet: Any) -> str | int | None:
    if sheet is None or isinstance(sheet, str):
        return sheet
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if sheet < 1:
            raise ParameterError(f"sheet numbers start at 1 (the first sheet), as on the command line; got {sheet}")
        return sheet
    raise ParameterError(f"sheet must be a sheet name (str) or a 1-based sheet number (int); got {type(sheet).__name__}")


def _iconv_name(encoding: str | None) -> str | None:
    """The name ReadStat (pyreadstat, via iconv) knows for a Python codec: ``latin-1`` -> ``ISO8859-1``."""
    return None if encoding is None else codecs.lookup(encoding).name.upper().replace("_", "-")


# --------------------------------------------------------------------------- text: encoding


def _where(raw: bytes, exc: UnicodeDecodeError) -> str:
    pos = exc.start
    line = raw.count(b"\n", 0, pos) + 1
    return f"byte 0x{raw[pos]:02x} on line {line}" if pos < len(raw) else "at the end"


def _decode(raw: bytes, encoding: str | None, name: str) -> tuple[str, str, list[str]]:
    """(codec used, text, notes) of the bytes of a text file.

    Without ``encoding``: a byte-order mark decides (UTF-8 or UTF-16); else strict
    UTF-8; else cp1252 (Windows "ANSI" in Western Europe and Indonesia, what Excel
    writes as "CSV"), when every byte is defined there; else Latin-1, which decodes
    any bytes.  cp1252 and Latin-1 agree on every letter (they differ only on
    0x80-0x9f), so the choice between them rarely matters.
    """
    if raw.startswith(b"PK\x03\x04"):
        raise DataFileError(f"cannot read {name!r} as text: it is a zip archive, probably an Excel workbook; "
                            "give it the extension .xlsx")
    if encoding is not None:
        codec, body, how = encoding, raw, encoding
        if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") and raw.startswith(codecs.BOM_UTF8):
            # the byte-order mark is not part of the first column's name
            codec, body, how = "utf-8-sig", raw[3:], "utf-8"
        try:
            return codec, body.decode(how), []
        except UnicodeDecodeError as exc:
            raise DataFileError(
                f"cannot read {name!r} as {encoding}: {_where(body, exc)} is not valid {encoding}; "
                "give another encoding=NAME (e.g. 'cp1252' or 'latin-1'), or none to have it detected"
            ) from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return "utf-8-sig", raw[3:].decode("utf-8"), []
        except UnicodeDecodeError as exc:
            raise DataFileError(
                f"cannot read {name!r}: it starts with a UTF-8 byte-order mark, but {_where(raw[3:], exc)} is not "
                "valid UTF-8; give encoding=NAME (e.g. 'cp1252' or 'latin-1')"
            ) from None
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if raw.startswith(bom) and _valid(raw, "utf-16"):
            return "utf-16", raw.decode("utf-16"), ["read as UTF-16 (the file starts with its byte-order mark)"]
    sample = raw[:4096]
    if b"\x00" in sample:
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        half = len(sample) // 2
        for codec, zeros, others in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
            # text in UTF-16 without a byte-order mark: mostly zero high bytes, all on one side
            if zeros >= 0.5 * half and 4 * others <= zeros and _valid(raw, codec):
                return codec, raw.decode(codec), [f"read as {codec.upper()} (no byte-order mark, but every other "
                                                  "byte is zero); give encoding=NAME to choose another"]
        raise DataFileError(f"cannot read {name!r} as text: it holds zero bytes, so it is a binary file "
                            "(save it as .csv, .xlsx, .sav, .dta or .parquet)")
    try:
        return "utf-8", raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        where = _where(raw, exc)
    try:
        text = raw.decode("cp1252")
        return "cp1252", text, [f"read as cp1252: the file is not valid UTF-8 ({where}); "
                                "give encoding=NAME to choose another"]
    except UnicodeDecodeError:
        return "latin-1", raw.decode("latin-1"), [f"read as latin-1: the file is neither UTF-8 ({where}) nor cp1252; "
                                                  "give encoding=NAME to choose another"]


def _valid(raw: bytes, codec: str) -> bool:
    try:
        raw.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------------- text: separator, decimal mark


def _sniff_separator(head: str, complete: bool, candidates: Iterable[str] = _SEPARATORS) -> str:
    """The separator that splits the header into the most fields, consistently on the next lines.

    The header decides first: a decimal comma (``3,5``) or a ``;`` inside a quoted text
    value never appears in a header of plain column names, so it cannot win.  When no
    candidate splits the header, :class:`csv.Sniffer` guesses; failing that, ``,``.
    """
    best: tuple[int, str] | None = None
    for sep in candidates:
        try:
            records = [r for r in itertools.islice(csv.reader(io.StringIO(head, newline=""), delimiter=sep), 201) if r]
        except csv.Error:
            continue
        if not complete and len(records) > 1:
            records = records[:-1]  # the last line of a head may be cut
        if not records:
            continue
        n = len(records[0])
        body = records[1:]
        if n > 1 and all(len(r) <= n for r in body) and sum(len(r) == n for r in body) >= 0.9 * len(body):
            if best is None or n > best[0]:
                best = (n, sep)
    if best is not None:
        return best[1]
    try:
        return csv.Sniffer().sniff(head[:_SNIFF_CHARS], delimiters="".join(candidates)).delimiter
    except csv.Error:
        return ","


def _is_text_column(series: pd.Series) -> bool:
    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def _comma_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns whose every non-blank cell is a number written with a decimal comma."""
    out = []
    for col in frame.columns:
        series = frame[col]
        if not _is_text_column(series):
            continue
        values = series.dropna().astype(str)
        if values.empty:
            continue
        head = values.iloc[:1000]
        if not head.str.fullmatch(_COMMA_NUMBER).all():
            continue
        if values.str.fullmatch(_COMMA_NUMBER).all() and values.str.contains(",", regex=False).any():
            out.append(col)
    return out


def _parse(text: str, sep: str, decimal: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text, newline=""), sep=sep, decimal=decimal, skipinitialspace=True)


def _read_delimited(text: str, sep: str, decimal: str | None) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    """(frame, decimal mark used, notes, columns that look like decimal-comma numbers but were left as text).

    Without ``decimal``: read with ``.``; when some text columns hold only numbers
    written with a decimal comma and the separator is not ``,`` (with ``,`` a quoted
    ``"1,000"`` may be a thousands mark), read again with ``,`` and keep that reading if
    those columns become numbers and every column that was numeric stays numeric
    (so a file that also writes ``3.5`` is not reinterpreted).
    """
    if decimal is not None:
        frame = _parse(text, sep, decimal)
        return frame, decimal, [], _comma_columns(frame) if decimal == "." else []
    frame = _parse(text, sep, ".")
    commas = _comma_columns(frame)
    if not commas:
        return frame, ".", [], []
    if sep != ",":
        alt = _parse(text, sep, ",")
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c].dtype)]
        if list(alt.columns) == list(frame.columns) and all(
            pd.api.types.is_numeric_dtype(alt[c].dtype) for c in [*commas, *numeric]
        ):
            example = str(frame[commas[0]].dropna().astype(str).str.strip().loc[lambda s: s.str.contains(",")].iloc[0])
            note = (f"read ',' as the decimal mark (numbers such as {example!r} in {_names(commas)}); "
                    "give decimal='.' to turn this off")
            return alt, ",", [note], []
    return frame, ".", [], commas


@dataclass(frozen=True)
class _TextFormat:
    """How a delimited text file is read (decided on its head for streaming)."""

    separator: str
    encoding: str
    decimal: str
    header: tuple[str, ...]
    notes: tuple[str, ...]
    comma_columns: tuple[str, ...] = ()


def _read_head(path: Path, limit: int) -> tuple[bytes, bool]:
    """The first ``limit`` bytes cut at a line end, and whether that is the whole file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except FileNotFoundError:
        raise DataFileNotFoundError(f"cannot read {str(path)!r}: no such file") from None
    except OSError as exc:
        raise DataFileError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if len(raw) <= limit:
        return raw, True
    raw = raw[:limit]
    sample = raw[:4096]
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in sample:
        # UTF-16: cut after a two-byte line end, never inside a character
        big_endian = raw.startswith(codecs.BOM_UTF16_BE) or sample[0::2].count(0) > sample[1::2].count(0)
        newline = b"\x00\n" if big_endian else b"\n\x00"
        end = raw.rfind(newline)
        while end > 0 and end % 2:
            end = raw.rfind(newline, 0, end)
        return (raw[: end + 2] if end > 0 else raw[: len(raw) - len(raw) % 2]), False
    end = raw.rfind(b"\n")
    return (raw[: end + 1] if end > 0 else raw), False


def _sniff_text(path: str | Path, *, encoding: str | None = None, decimal: str | None = None,
                head_bytes: int = 1 << 20) -> _TextFormat:
    """The encoding, separator and decimal mark of a delimited text file, decided on its head.

    Used by the chunked readers (:mod:`servmodels.streaming`), which cannot look at the
    whole file first; :func:`read_table` decides on the whole file.
    """
    path = Path(path)
    encoding = _check_encoding(encoding)
    decimal = _check_decimal(decimal)
    raw, complete = _read_head(path, head_bytes)
    codec, text, notes = _decode(raw, encoding, str(path))
    sep = "\t" if path.suffix.lower() == ".tsv" else _sniff_separator(text[:_SNIFF_CHARS],
                                                                       complete and len(text) <= _SNIFF_CHARS)
    try:
        header = tuple(next(csv.reader(io.StringIO(text, newline=""), delimiter=sep)))
    except (StopIteration, csv.Error):
        header = ()
    dec, commas = decimal or ".", ()
    try:
        frame, dec, more, comma_list = _read_delimited(text, sep, decimal)
        _, strip_note = _strip_headers(frame, str(path))
        notes += more + ([strip_note] if strip_note else [])
        commas = tuple(comma_list)
    except ValidationError:
        raise
    except Exception:  # the head may end inside a quoted field; the full read reports real errors
        pass
    return _TextFormat(sep, codec, dec, header, tuple(notes), commas)


# --------------------------------------------------------------------------- headers, sheets


def _strip_headers(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, str | None]:
    """Column names without surrounding whitespace (``'P1 '`` -> ``'P1'``), and a note naming those changed."""
    changed = [c for c in frame.columns if isinstance(c, str) and c != c.strip()]
    if not changed:
        return frame, None
    new = [c.strip() if isinstance(c, str) else c for c in frame.columns]
    groups: dict[Any, list[Any]] = {}
    for old, stripped in zip(frame.columns, new):
        groups.setdefault(stripped, []).append(old)
    clashes = [(k, v) for k, v in groups.items() if len(v) > 1 and any(o in changed for o in v)]
    if clashes:
        raise ValidationError([
            Problem("duplicate_column", str(k),
                    f"column names {_names(v)} are the same once surrounding spaces are removed")
            for k, v in clashes[:5]
        ], source)
    return frame.set_axis(new, axis=1), f"removed surrounding spaces from column name(s) {_names(changed)}"


def _pick_sheet(names: Sequence[str], sheet: str | int | None, source: str) -> str:
    """The sheet asked for: a name, else a 1-based number (also as a digit string)."""
    listed = f"sheets: {_names(list(names), 10)}"
    if sheet is None:
        return names[0]
    if isinstance(sheet, str):
        if sheet in names:
            return sheet
        if sheet.strip().isdigit() and 1 <= int(sheet) <= len(names):
            return names[int(sheet) - 1]
        numbered = " (sheets are numbered from 1)" if sheet.strip().isdigit() else ""
        raise DataFileError(f"no sheet {sheet[:40]!r} in {source!r}{numbered}; {listed}")
    if sheet > len(names):
        raise DataFileError(f"no sheet {sheet} in {source!r}: it has {len(names)}; {listed}")
    return names[sheet - 1]


# --------------------------------------------------------------------------- public readers


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a data file into a DataFrame without interpreting its values.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.tsv``/``.txt`` (delimited text), ``.xlsx``/``.xlsm``, ``.sav``/``.zsav``,
        ``.dta``, ``.parquet``/``.pq``.
    sheet : str or int, optional
        Excel only.  A sheet name, or a sheet number counted **from 1** (``sheet=2`` is
        the second sheet, as ``--sheet 2`` on the command line; unlike pandas'
        0-based ``sheet_name``).  A digit string such as ``"2"`` is a sheet name when
        the workbook has a sheet of exactly that name, else a number.  Default: the
        first sheet.
    encoding : str, optional
        Text encoding of a delimited text file (or of an SPSS file's strings), any
        name Python knows: ``"utf-8"``, ``"cp1252"``, ``"latin-1"``, ...  Default:
        detected (a byte-order mark, else UTF-8 if the whole file is valid UTF-8,
        else cp1252, else Latin-1); a choice other than UTF-8 is noted.
    decimal : {".", ","}, optional
        Decimal mark of a delimited text file.  Default: ``"."``, unless the separator
        is not ``,`` and every column that reads as text holds numbers written with
        a comma (``3,5``), as Excel writes them in Indonesian and European locales;
        then ``","`` (noted).  With ``,`` as separator too, decimal-comma values must
        be quoted (``"3,5"``).

    Returns
    -------
    frame : DataFrame
        Column names without surrounding whitespace (noted when changed).
    metadata : dict
        ``format``; for text files ``encoding``, ``separator`` and ``decimal``; for
        workbooks ``sheet`` (the name read) and ``sheets`` (all names); for SPSS and
        Stata ``value_labels`` and ``variable_labels``; ``notes``: list of
        human-readable notes on choices made while reading (empty when none).

    Raises
    ------
    DataFileError
        When the file is missing, of an unknown format, unreadable, not decodable
        with the ``encoding`` given, or has no such sheet.
    ParameterError
        When an option is invalid, or does not apply to this format (``sheet`` for
        a CSV file, ``decimal`` for a workbook).
    ValidationError
        When the file holds no header, or two column names differ only by
        surrounding spaces.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from servmodels import read_table
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "survey.csv"
    >>> _ = path.write_bytes("village;P1 ;satisfaction\\nBaños;3;3,5\\n".encode("cp1252"))
    >>> frame, meta = read_table(path)
    >>> frame.to_dict("records")
    [{'village': 'Baños', 'P1': 3, 'satisfaction': 3.5}]
    >>> meta["encoding"], meta["separator"], meta["decimal"]
    ('cp1252', ';', ',')
    >>> for note in meta["notes"]:
    ...     print(note)
    read as cp1252: the file is not valid UTF-8 (byte 0xf1 on line 2); give encoding=NAME to choose another
    read ',' as the decimal mark (numbers such as '3,5' in 'satisfaction'); give decimal='.' to turn this off
    removed surrounding spaces from column name(s) 'P1 '
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_FORMATS:
        raise DataFileError(
            f"cannot read {str(path)!r}: unsupported file type {ext or '(none)'}; "
            f"use one of {', '.join(sorted(SUPPORTED_FORMATS))}"
        )
    sheet = _check_sheet(sheet)
    encoding = _check_encoding(encoding)
    decimal = _check_decimal(decimal)
    kind = SUPPORTED_FORMATS[ext]
    if sheet is not None and ext not in _EXCEL:
        raise ParameterError(f"sheet applies to Excel workbooks (.xlsx, .xlsm), not to {path.name!r} ({kind})")
    if decimal is not None and ext not in _TEXT:
        raise ParameterError(f"decimal applies to delimited text files (.csv, .tsv, .txt), not to {path.name!r} "
                             f"({kind}), which stores numbers as numbers")
    if encoding is not None and ext not in (*_TEXT, *_SPSS):
        raise ParameterError(f"encoding applies to text and SPSS files, not to {path.name!r} ({kind}), "
                             "which records its own")
    if path.is_dir():
        raise DataFileError(f"cannot read {str(path)!r}: it is a directory, not a file")
    if not path.is_file():
        raise DataFileNotFoundError(f"cannot read {str(path)!r}: no such file")
    meta: dict[str, Any] = {"format": kind}
    notes: list[str] = []
    try:
        if ext in _TEXT:
            codec, text, notes = _decode(path.read_bytes(), encoding, str(path))
            sep = "\t" if ext == ".tsv" else _sniff_separator(text[:_SNIFF_CHARS], len(text) <= _SNIFF_CHARS)
            frame, dec, more, commas = _read_delimited(text, sep, decimal)
            notes += more
            meta.update(encoding=codec, separator=sep, decimal=dec)
            if commas:
                meta["comma_columns"] = commas
        elif ext in _EXCEL:
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = [str(n) for n in book.sheet_names]
                name = _pick_sheet(names, sheet, str(path))
                frame = pd.read_excel(book, sheet_name=name)
            meta.update(sheet=name, sheets=names)
        elif ext in _SPSS:
            import pyreadstat

            frame, m = pyreadstat.read_sav(str(path), apply_value_formats=False, encoding=_iconv_name(encoding))
            meta["value_labels"] = {k: {str(kk): vv for kk, vv in v.items()} for k, v in m.variable_value_labels.items()}
            meta["variable_labels"] = {k: v for k, v in m.column_names_to_labels.items() if v}
        elif ext == ".dta":
            with pd.io.stata.StataReader(path) as reader:
                frame = reader.read(convert_categoricals=False)  # type: ignore[attr-defined]
                meta["value_labels"] = reader.value_labels()
                meta["variable_labels"] = reader.variable_labels()
        else:
            frame = pd.read_parquet(path)
    except ServmodelsError:
        raise
    except pd.errors.EmptyDataError:
        raise ValidationError([Problem("empty", None, "the file is empty")], str(path)) from None
    except (OSError, ValueError, ImportError, KeyError) as exc:
        raise DataFileError(f"cannot read {str(path)!r} as {kind}: {_short(exc)}{_quote_hint(exc, decimal)}") from None
    except Exception as exc:  # parser-specific errors (pyreadstat, pyarrow, openpyxl)
        raise DataFileError(f"cannot read {str(path)!r} as {kind}: {type(exc).__name__}: {_short(exc)}") from None
    frame, note = _strip_headers(frame, str(path))
    meta["notes"] = notes + ([note] if note else [])
    return frame, meta


def _quote_hint(exc: Exception, decimal: str | None) -> str:
    if decimal == "," and "Expected" in str(exc) and "fields" in str(exc):
        return "; in a comma-separated file, numbers with a decimal comma must be quoted (\"3,5\")"
    return ""


def _hinted(exc: ValidationError, meta: Mapping[str, Any], sheet_given: bool) -> ValidationError:
    """The error with one more sentence when the cause is probably how the file was read."""
    sheets = meta.get("sheets") or []
    missing = [p.column for p in exc.problems if p.kind == "missing_column" and p.column]
    text = str(exc)
    override = None
    hints: list[str] = []
    if missing and not sheet_given and len(sheets) > 1:
        choose = f"the workbook has sheets {_names(sheets, 10)}: choose one with sheet=NAME"
        if len(missing) > 3:  # the whole layout is absent: the data are on another sheet
            where = f" in {exc.source}" if exc.source else ""
            override = text = (f"invalid survey data{where}: sheet {meta.get('sheet')!r} (the first of {len(sheets)}) "
                               f"lacks {len(missing)} required columns ({_names(missing)}); {choose}")
        else:
            hints.append(choose)
    commas = set(meta.get("comma_columns") or ())
    bad = [p.column for p in exc.problems if p.kind == "non_numeric" and p.column in commas]
    if bad:
        hints.append(f"{_names(bad)} {'hold' if len(bad) > 1 else 'holds'} numbers with a decimal comma: give decimal=','")
    if override is None and not hints:
        return exc
    out = ValidationError(exc.problems, exc.source)
    # the CLI composes its own bounded line: it uses the override as it is, or appends the hints
    out.override = override
    out.hint = "; ".join(hints) or None
    out.args = (override if override is not None else text + "; " + "; ".join(hints),)
    return out


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
    encoding: str | None = None,
    decimal: str | None = None,
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
        Excel sheet: a name, or a number counted from 1 (``sheet=2`` is the second
        sheet, as ``--sheet 2``).  Default: the first; when the data are not there
        and the workbook has more sheets, the error lists them.
    encoding : str, optional
        Text encoding of a CSV/TXT file (or SPSS strings); detected when not given.
    decimal : {".", ","}, optional
        Decimal mark of a CSV/TXT file; detected when not given.  See :func:`read_table`.

    Returns
    -------
    SurveyData
        ``metadata["notes"]`` lists what was decided while reading (an encoding
        other than UTF-8, a decimal comma, column names stripped of spaces).

    Raises
    ------
    ParameterError
        For ``sheet``, ``encoding`` or ``decimal`` with a DataFrame, or an invalid value.

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
        given = [k for k, v in (("sheet", sheet), ("encoding", encoding), ("decimal", decimal)) if v is not None]
        if given:
            raise ParameterError(f"{', '.join(given)}: these options apply to reading a file; source is a DataFrame")
        frame, note = _strip_headers(source, "<DataFrame>")
        meta: dict[str, Any] = {"format": "DataFrame", "notes": [note] if note else []}
        name = "<DataFrame>"
    elif not isinstance(source, (str, os.PathLike)):
        raise ParameterError(f"source must be a file path or a pandas DataFrame; got {type(source).__name__}")
    else:
        frame, meta = read_table(source, sheet=sheet, encoding=encoding, decimal=decimal)
        name = str(source)
    try:
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
    except ValidationError as exc:
        raise _hinted(exc, meta, sheet is not None) from None
