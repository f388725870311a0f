"""Scoring files larger than memory: chunked reading, mergeable moments, Dask.

``stream_score`` reads CSV (pyarrow's streaming reader), Parquet (row batches) or SPSS
(pyreadstat chunks) ``chunk_rows`` at a time, validates every chunk with the same rules
as the in-memory path (row numbers in messages stay absolute), accumulates exact
integer moments (:class:`servmodels.scoring.ScoreMoments`) and optionally writes the
respondent-level scores as it goes.  Results equal :func:`servmodels.score` on the whole
file exactly, for any chunk size.  ``dask_score`` does the same map/reduce of moments
over the partitions of a ``dask.dataframe``.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._exceptions import (
    ConstantItemWarning,
    DataFileError,
    ParameterError,
    Problem,
    ServmodelsWarning,
    SmallSampleWarning,
    ValidationError,
)
from ._params import check_int
from ._progress import progress as progress_bar
from ._validation import CHUNK_MODE, NanPolicy, survey_from_arrays, validate_survey
from .instrument import Instrument, get_instrument
from .scoring import ScoreMoments, ScoreResult, score, score_moments

__all__ = ["iter_chunks", "stream_score", "dask_score"]

_MAX_PROBLEMS = 100
#: a number written with a decimal comma, as text (read with ``as_text``): the parts before and after the comma
_COMMA_TEXT = re.compile(r"^(\s*[+-]?\d*),(\d+\s*)$")


def _csv_chunks(path: Path, chunk_rows: int, as_text: bool, encoding: str | None = None,
                decimal: str | None = None) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    from pyarrow import csv as pacsv

    from .io import _sniff_text, _strip_headers

    # the encoding, separator and decimal mark are decided on the head of the file, as read_table
    # decides them on the whole file; later bytes that do not fit are reported below
    fmt = _sniff_text(path, encoding=encoding, decimal=decimal)
    types = {c: pa.string() for c in fmt.header} if as_text else None
    convert = pacsv.ConvertOptions(column_types=types, decimal_point=fmt.decimal)
    utf8 = codecs.lookup(fmt.encoding).name in ("utf-8", "utf-8-sig")
    comma_text = as_text and fmt.decimal == ","

    def frame_of(table: Any) -> pd.DataFrame:
        frame, _ = _strip_headers(table.to_pandas(), str(path))
        if comma_text:  # text columns: "3,5" -> "3.5", so validation reads them as numbers
            for col in frame.columns:
                if frame[col].dtype == object or isinstance(frame[col].dtype, pd.StringDtype):
                    frame[col] = frame[col].str.replace(_COMMA_TEXT, r"\1.\2", regex=True)
        return frame

    pending: list[Any] = []
    rows = 0
    tables = _csv_tables(path, fmt.separator, convert, "utf8" if utf8 else fmt.encoding)
    while True:
        try:
            table = next(tables)
        except StopIteration:
            break
        except UnicodeDecodeError as exc:
            raise DataFileError(
                f"cannot read {str(path)!r} as {fmt.encoding}: byte 0x{exc.object[exc.start]:02x} after the first MiB "
                "is not valid there; give encoding=NAME (e.g. 'cp1252' or 'latin-1')"
            ) from None
        binary = [f.name for f in table.schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
        if binary and utf8:
            raise DataFileError(
                f"cannot read {str(path)!r} as UTF-8: column {binary[0]!r} holds bytes that are not valid UTF-8 "
                "(after the first MiB, on which the encoding was chosen); give encoding=NAME (e.g. 'cp1252')"
            )
        pending.extend(table.to_batches())
        rows += table.num_rows
        while rows >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield frame_of(table.slice(0, chunk_rows))
            rest = table.slice(chunk_rows)
            pending = rest.to_batches() if rest.num_rows else []
            rows = rest.num_rows
    if rows:
        yield frame_of(pa.Table.from_batches(pending))


def _csv_tables(path: Path, delim: str, convert: Any, encoding: str = "utf8",
                block_bytes: int = 1 << 26) -> Iterator[Any]:
    """Parse a CSV in byte blocks cut at line ends, each with pyarrow's multi-threaded
    ``read_csv`` (2-3x faster than its serial streaming reader); column types are fixed by
    the first block so later blocks parse consistently.  Files whose quoted fields contain
    line breaks, and UTF-16 files (whose line ends are two bytes), fall back to the
    streaming reader."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    parse = pacsv.ParseOptions(delimiter=delim)
    read = pacsv.ReadOptions(encoding=encoding)
    with open(path, "rb") as fh:
        header = fh.readline()
        if codecs.lookup(encoding).name.startswith("utf-16") or _has_quoted_newlines(path):
            reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 24, encoding=encoding),
                                    parse_options=parse, convert_options=convert)
            for batch in reader:
                yield pa.Table.from_batches([batch])
            return
        types = convert
        while True:
            block = fh.read(block_bytes)
            if not block:
                break
            block += fh.readline()
            table = pacsv.read_csv(pa.py_buffer(header + block), read_options=read, parse_options=parse,
                                   convert_options=types)
            if types.column_types is None or not len(types.column_types):
                types = pacsv.ConvertOptions(column_types=table.schema, decimal_point=convert.decimal_point)
            yield table


def _has_quoted_newlines(path: Path, probe: int = 1 << 22) -> bool:
    """A line with an odd number of quotes opens a quoted field that spans a line break."""
    with open(path, "rb") as fh:
        lines = fh.read(probe).split(b"\n")[:-1]
    return any(line.count(b'"') % 2 for line in lines)


def iter_chunks(path: str | Path, *, chunk_rows: int = 250_000, as_text: bool = False, encoding: str | None = None,
                decimal: str | None = None) -> Iterator[pd.DataFrame]:
    """DataFrames of at most ``chunk_rows`` rows, in file order (CSV, Parquet, SPSS; others whole).

    ``encoding`` and ``decimal`` are those of :func:`servmodels.read_table`; for a CSV
    file they are detected on its first MiB when not given.  Column names lose
    surrounding whitespace, as in ``read_table``.
    """
    from .io import _check_decimal, _check_encoding, _iconv_name, _strip_headers

    path = Path(path)
    chunk_rows = check_int("chunk_rows", chunk_rows, low=1)
    encoding, decimal = _check_encoding(encoding), _check_decimal(decimal)
    ext = path.suffix.lower()
    if decimal is not None and ext not in (".csv", ".tsv", ".txt"):
        raise ParameterError(f"decimal applies to delimited text files (.csv, .tsv, .txt), not {ext or 'this file'}")
    if encoding is not None and ext not in (".csv", ".tsv", ".txt", ".sav", ".zsav"):
        raise ParameterError(f"encoding applies to text and SPSS files, not {ext or 'this file'}")
    if not path.is_file():
        raise DataFileError(f"cannot read {str(path)!r}: no such file")
    if ext in (".csv", ".tsv", ".txt"):
        yield from _csv_chunks(path, chunk_rows, as_text, encoding, decimal)
    elif ext in (".parquet", ".pq"):
        for table in _parquet_tables(path, chunk_rows):
            yield _strip_headers(table.to_pandas(), str(path))[0]
    elif ext in (".sav", ".zsav"):
        import pyreadstat

        for frame, _ in pyreadstat.read_file_in_chunks(pyreadstat.read_sav, str(path), chunksize=chunk_rows,
                                                       apply_value_formats=False, encoding=_iconv_name(encoding)):
            yield frame
    else:
        from .io import read_table

        frame, _ = read_table(path)
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start : start + chunk_rows]


def _parquet_tables(path: Path, chunk_rows: int) -> Iterator[Any]:
    """Arrow tables of ``chunk_rows`` rows (the last one shorter), in file order."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.parquet as pq

    # row group by row group: ParquetFile.iter_batches keeps memory growing with the file
    # (about 5 MB per batch here), reading whole row groups keeps it bounded.  The next row group is
    # read on a helper thread (pyarrow releases the GIL) while the current one is scored: at most two
    # row groups in memory
    pf = pq.ParquetFile(path)
    pending = None
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        ahead = pool.submit(pf.read_row_group, 0) if pf.num_row_groups else None
        for i in range(pf.num_row_groups):
            table = ahead.result()
            ahead = pool.submit(pf.read_row_group, i + 1) if i + 1 < pf.num_row_groups else None
            if pending is not None and pending.num_rows:
                table = pa.concat_tables([pending, table])
            start = 0
            while table.num_rows - start >= chunk_rows:
                yield table.slice(start, chunk_rows)
                start += chunk_rows
            pending = table.slice(start)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if pending is not None and pending.num_rows:
        yield pending


def _arrow_columns(table: Any) -> dict[str, np.ndarray] | None:
    """Integer columns of an Arrow table without nulls as numpy arrays (zero-copy views of the Arrow
    buffers when a column is one chunk); None when a column name needs the header clean-up of
    read_table (surrounding spaces, duplicates), so that the pandas path handles it."""
    import pyarrow.types as pt

    names = table.column_names
    if len(set(names)) != len(names) or any(not isinstance(c, str) or c != c.strip() for c in names):
        return None
    out = {}
    for name, col in zip(names, table.columns):
        if pt.is_integer(col.type) and col.null_count == 0:
            out[name] = col.chunk(0).to_numpy() if col.num_chunks == 1 else col.to_numpy()
    return out


#: the compiled kernels are loaded for a streamed file with at least this many answers (rows x
#: columns, from the Parquet metadata): below it importing numba costs more than it saves
STREAM_KERNEL_MIN_CELLS = 500_000_000


class _Writer:
    def __init__(self, out: str | Path | None):
        self.path = Path(out) if out else None
        self.pq_writer = None
        self.first = True
        if self.path is not None and self.path.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise ParameterError(f"out (--out) for streaming must be .csv or .parquet, got {self.path.suffix or '(none)'}")

    def write(self, frame: pd.DataFrame) -> None:
        if self.path is None:
            return
        if self.path.suffix.lower() == ".csv":
            frame.to_csv(self.path, mode="w" if self.first else "a", header=self.first, index=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.pq_writer is None:
                self.pq_writer = pq.ParquetWriter(self.path, table.schema)
            self.pq_writer.write_table(table)
        self.first = False

    def close(self) -> None:
        if self.pq_writer is not None:
            self.pq_writer.close()


def stream_score(
    path: str | Path,
    instrument: Instrument | str = "servqual25",
    *,
    chunk_rows: int = 250_000,
    out: str | Path | None = None,
    cross: bool = False,
    scale: tuple[int, int] | None = None,
    score_sets: Iterable[str] | None = None,
    column_map: Mapping[str, str] | None = None,
    respondent_id: str | None = None,
    nan_policy: NanPolicy = "raise",
    progress: bool = False,
    encoding: str | None = None,
    decimal: str | None = None,
) -> tuple[ScoreResult, ScoreMoments]:
    """Score a survey file chunk by chunk in bounded memory.

    Returns the :class:`ScoreResult` (aggregates only; respondent scores go to ``out``)
    and the merged :class:`ScoreMoments` (with ``cross=True``: covariance matrices for
    ``cfa(sample_cov=..., n_obs=...)``).  Every problem in every chunk is collected and
    reported with absolute row numbers.  ``progress=True`` shows a row counter on stderr,
    advanced once per chunk.  ``encoding`` and ``decimal`` are those of
    :func:`servmodels.read_table`, detected on the first MiB of a CSV file when not given.

    Examples
    --------
    >>> from servmodels import example_path, score, read_survey
    >>> res, _ = stream_score(example_path(), chunk_rows=7)
    >>> res.dimensions.equals(score(read_survey(example_path())).dimensions)
    True
    """
    inst = get_instrument(instrument)
    kw = dict(scale=scale, score_sets=score_sets, column_map=column_map, respondent_id=respondent_id, nan_policy=nan_policy)
    for attempt in (False, True):
        try:
            res, total = _stream(path, inst, chunk_rows, out, cross, kw, progress, as_text=attempt, encoding=encoding,
                                 decimal=decimal)
            if inst.reverse:
                res._record_reverse(inst.with_score_sets(score_sets) if score_sets else inst)
            return res, total
        except _TypeDrift:
            continue  # a text value deep in a numeric CSV column: re-read with text columns
    raise AssertionError("unreachable")


class _TypeDrift(Exception):
    pass


def _stream(path, inst, chunk_rows, out, cross, kw, progress, *, as_text: bool, **read):
    import pyarrow as pa

    from .io import _strip_headers

    total: ScoreMoments | None = None
    problems: list[Problem] = []
    n_problems = 0
    offset = 0
    writer = _Writer(out)
    seen_ids: set[Any] = set()
    bar = progress_bar(None, f"scoring {Path(path).name}", progress, unit="rows")  # the total is unknown until the end
    token = CHUNK_MODE.set(True)
    parquet = Path(path).suffix.lower() in (".parquet", ".pq") and Path(path).is_file()
    numpy_only = None
    if parquet:
        # Arrow tables go to validation and the scoring kernel without a pandas DataFrame; a chunk
        # the quick checks cannot pass (a problem to report, other column types) takes the pandas path
        import pyarrow.parquet as pq

        from ._compiled import kernels
        from ._compiled import numpy_only as _numpy_only

        meta = pq.ParquetFile(path).metadata
        if kernels(meta.num_rows * meta.num_columns, STREAM_KERNEL_MIN_CELLS) is None:
            numpy_only = _numpy_only()
            numpy_only.__enter__()
    try:
        chunks = (_parquet_tables(Path(path), check_int("chunk_rows", chunk_rows, low=1)) if parquet
                  else iter_chunks(path, chunk_rows=chunk_rows, as_text=as_text, **read))
        while True:
            try:
                frame = next(chunks)
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                if not as_text:
                    raise _TypeDrift() from exc
                hint = "; give encoding=NAME (e.g. 'cp1252')" if "UTF8" in str(exc) else ""
                raise DataFileError(f"cannot read {str(path)!r}: {' '.join(str(exc).split())[:300]}{hint}") from None
            data = None
            if parquet:
                cols = _arrow_columns(frame)
                if cols is not None:
                    data = survey_from_arrays(cols, inst, row_offset=offset, source=str(path), **kw)
                if data is None:
                    frame = _strip_headers(frame.to_pandas(), str(path))[0]
            try:
                # chunk-level warnings (a constant item within one chunk, a tiny last chunk)
                # are not about the data; they are re-derived from the merged moments below
                if data is None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ServmodelsWarning)
                        data = validate_survey(frame, inst, source=str(path), row_offset=offset, **kw)
            except ValidationError as exc:
                n_problems += len(exc.problems)
                problems.extend(exc.problems[: max(0, _MAX_PROBLEMS - len(problems))])
                offset += len(frame)
                bar.update(len(frame))
                continue
            if data.respondent_ids is not None:
                ids = set(data.respondent_ids.tolist())
                dup = ids & seen_ids
                if dup:
                    problems.append(Problem("duplicate_id", data.instrument.respondent_id,
                                            f"respondent ids repeated across chunks ({', '.join(map(repr, list(dup)[:3]))})"))
                    n_problems += 1
                seen_ids |= ids
            mom = score_moments(data, cross=cross)
            total = mom if total is None else total.merge(mom)
            if writer.path is not None and not problems:
                writer.write(score(data).respondents)
            offset += len(frame)
            bar.update(len(frame))
    finally:
        CHUNK_MODE.reset(token)
        if numpy_only is not None:
            numpy_only.__exit__(None, None, None)
        writer.close()
        bar.close()
    if problems:
        if n_problems > len(problems):
            problems.append(Problem("truncated", None, f"{n_problems - len(problems)} further problems not listed"))
        raise ValidationError(problems, str(path))
    if total is None:
        raise ValidationError([Problem("empty", None, "the file has no respondent rows")], str(path))
    total = _file_warnings(total)
    return total.to_result(), total


def _file_warnings(total: ScoreMoments) -> ScoreMoments:
    """Warnings of the whole file, as validate_survey would give them in memory."""
    issued = []
    inst = total.instrument
    constant = []
    for name, src in total.names:
        if isinstance(src, str):
            t, q = total.items[name]
            cols = inst.columns(src)
            constant += [c for c, ti, qi in zip(cols, t, q) if total.n > 1 and int(qi) * total.n == int(ti) * int(ti)]
    if constant:
        msg = f"constant item(s) with zero variance: {', '.join(constant)}; correlations involving them are undefined"
        warnings.warn(msg, ConstantItemWarning, stacklevel=3)
        issued.append(msg)
    if total.n < 3:
        msg = f"only {total.n} respondent(s) left; standard deviations and correlations are undefined or unstable"
        warnings.warn(msg, SmallSampleWarning, stacklevel=3)
        issued.append(msg)
    return dataclasses.replace(total, warnings=tuple(issued))


def dask_score(source: Any, instrument: Instrument | str = "servqual25", *, scheduler: str | None = None,
               cross: bool = False, encoding: str | None = None, decimal: str | None = None,
               **validate_kwargs: Any) -> tuple[ScoreResult, ScoreMoments]:
    """Score a ``dask.dataframe`` (or a CSV/Parquet path or glob) by map/reduce of moments.

    ``scheduler``: ``None``/``"local"`` (dask's threaded scheduler in this process) or the
    address of a running ``distributed`` scheduler.  Partition row offsets are computed
    first, so validation messages keep absolute row numbers.  For CSV, ``encoding``,
    ``decimal`` and the separator are decided on the first file as :func:`stream_score` does.
    """
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - optional dependency
        raise ParameterError("scheduler: the Dask backend needs dask: pip install 'servmodels[dask]'") from None
    inst = get_instrument(instrument)
    if isinstance(source, (str, Path)):
        ddf = _dask_read(dd, str(source), encoding, decimal)
    elif encoding is not None or decimal is not None:
        raise ParameterError("encoding, decimal: these options apply to reading a file; source is a dask DataFrame")
    else:
        ddf = source
    client = None
    if scheduler not in (None, "local"):
        from distributed import Client

        client = Client(scheduler)
    try:
        lengths = ddf.map_partitions(len).compute()
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        parts = ddf.to_delayed()

        def one(frame: pd.DataFrame, offset: int) -> ScoreMoments:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ServmodelsWarning)
                data = validate_survey(frame, inst, row_offset=int(offset), **validate_kwargs)
            return score_moments(data, cross=cross)

        moments = [dask.delayed(one)(p, o) for p, o in zip(parts, offsets)]
        while len(moments) > 1:  # pairwise tree reduction
            moments = [dask.delayed(ScoreMoments.merge)(a, b) if b is not None else a
                       for a, b in zip(moments[::2], moments[1::2] + [None] * (len(moments) % 2))]
        total = moments[0].compute(scheduler="threads" if client is None else None)
    finally:
        if client is not None:
            client.close()
    total = _file_warnings(total)
    return total.to_result(), total


def _dask_read(dd: Any, src: str, encoding: str | None, decimal: str | None) -> Any:
    """A dask DataFrame of a Parquet path or of CSV files read as :func:`iter_chunks` reads them."""
    import glob

    from .io import _check_decimal, _check_encoding, _sniff_text

    encoding, decimal = _check_encoding(encoding), _check_decimal(decimal)
    if src.endswith((".parquet", ".pq")) or Path(src).is_dir():
        if encoding is not None or decimal is not None:
            raise ParameterError("encoding, decimal: these options apply to text files; Parquet records its own")
        return dd.read_parquet(src)
    first = sorted(glob.glob(src))
    fmt = _sniff_text(first[0] if first else src, encoding=encoding, decimal=decimal)
    utf16 = codecs.lookup(fmt.encoding).name.startswith("utf-16")
    ddf = dd.read_csv(src, sep=fmt.separator, encoding=fmt.encoding, decimal=fmt.decimal, skipinitialspace=True,
                      **({"blocksize": None} if utf16 else {}))  # UTF-16 line ends cannot be split on bytes
    stripped = {c: c.strip() for c in ddf.columns if isinstance(c, str) and c != c.strip()}
    return ddf.rename(columns=stripped) if stripped else ddf
