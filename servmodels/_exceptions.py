"""Exception and warning hierarchy.

Every error servmodels raises on purpose derives from :class:`ServmodelsError`, so
callers (and the CLI) can catch one class.  Validation errors carry structured
:class:`Problem` records that name the offending column(s) and 1-based row(s).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "ServmodelsError",
    "DataFileError",
    "DataFileNotFoundError",
    "ValidationError",
    "InstrumentError",
    "ModelSpecificationError",
    "ConvergenceError",
    "ParameterError",
    "NumericalError",
    "Problem",
    "ServmodelsWarning",
    "ConstantItemWarning",
    "SmallSampleWarning",
    "NegativeReliabilityWarning",
    "NonConvergenceWarning",
    "HeywoodCaseWarning",
    "NonPositiveDefiniteWarning",
    "SingularDataWarning",
]

#: how many offending rows a message lists before summarising with a count
MAX_ROWS_SHOWN = 5
#: how many problems ``str(ValidationError)`` lists before "and N more" (all are in ``.problems``)
MAX_PROBLEMS_IN_STR = 20
#: longest column name, problem detail and source shown in a one-line message (the rest is elided)
MAX_NAME_CHARS = 60
MAX_DETAIL_CHARS = 200


def shorten(text: str, width: int, *, keep: str = "middle") -> str:
    """``text`` cut to at most ``width`` characters with ``...`` where it was cut.

    ``keep="middle"`` keeps both ends (file paths, column names), ``"start"`` the beginning.
    """
    text = str(text)
    if len(text) <= width:
        return text
    if width <= 3:
        return text[:width]
    if keep == "start":
        return text[: width - 3] + "..."
    head = (width - 3 + 1) // 2
    tail = width - 3 - head
    return text[:head] + "..." + (text[-tail:] if tail else "")


_LONG_QUOTED = re.compile(r"'([^']{40,})'|\"([^\"]{40,})\"")


def _clip_detail(detail: str, width: int) -> str:
    """A problem detail cut to ``width``: long quoted values (examples of bad cells) are
    elided first, then the end, closing a parenthesis that the cut left open."""
    detail = _LONG_QUOTED.sub(lambda m: m.group(0)[0] + shorten(m.group(0)[1:-1], 30) + m.group(0)[0], detail)
    if len(detail) <= width:
        return detail
    cut = detail[: max(width - 4, 1)]
    return cut + ("...)" if cut.count("(") > cut.count(")") else "...")


class ServmodelsError(Exception):
    """Root of all errors raised deliberately by servmodels.

    Never raised itself: every error is one of the subclasses below, and each
    subclass is also the matching builtin (``ValueError``, ``OSError``, ...), so
    ``except ValueError`` keeps working for code that does not know servmodels.
    """


class ParameterError(ServmodelsError, ValueError):
    """An argument has the wrong type or a value outside its allowed set or interval."""


class NumericalError(ServmodelsError, ArithmeticError):
    """A computation cannot be carried out on these data (singular matrix, ...).

    The message names the cause a user can act on (a constant item, collinear
    items, fewer respondents than items, an unidentified model).
    """


class DataFileError(ServmodelsError, OSError):
    """A survey file cannot be found, opened or parsed."""


class DataFileNotFoundError(DataFileError, FileNotFoundError):
    """The survey (or model) file does not exist."""


class InstrumentError(ServmodelsError, ValueError):
    """An instrument definition is inconsistent (duplicate items, bad scale, ...)."""


class ModelSpecificationError(ServmodelsError, ValueError):
    """A statistical model is mis-specified (unknown variable, unidentified model, ...)."""


class ConvergenceError(ServmodelsError, RuntimeError):
    """An iterative estimator did not converge and the caller asked for strictness.

    Raised by ``cfa(..., options=SEMOptions(strict=True))`` (``--strict`` in the
    CLI); without strictness the fit returns with a :class:`NonConvergenceWarning`.
    """


def format_rows(rows: tuple[int, ...], n_total: int | None = None, limit: int = MAX_ROWS_SHOWN) -> str:
    """Render 1-based row numbers as ``"row 4"`` or ``"rows 4, 9, 12 and 37 more"``.

    At most ``limit`` rows are listed; ``n_total`` (default ``len(rows)``) is the count of all.
    """
    n_total = len(rows) if n_total is None else n_total
    limit = max(1, min(limit, MAX_ROWS_SHOWN))
    shown = ", ".join(str(r) for r in rows[:limit])
    word = "row" if n_total == 1 else "rows"
    extra = n_total - min(len(rows), limit)
    return f"{word} {shown}" + (f" and {extra} more" if extra > 0 else "")


@dataclass(frozen=True)
class Problem:
    """One validation finding.

    Attributes
    ----------
    kind : str
        Machine-readable category: ``"missing_column"``, ``"non_numeric"``,
        ``"out_of_range"``, ``"non_integer"``, ``"missing_value"``,
        ``"duplicate_id"``, ``"empty"``, ``"negative_weight"``, ``"zero_weights"``.
    column : str or None
        The offending column, when the problem belongs to one.
    rows : tuple of int
        1-based data row numbers (row 1 is the first respondent; in a file with a
        header line, row ``r`` is on line ``r + 1``).  At most the first offenders are
        stored; ``n_rows`` is the total count.
    n_rows : int
        Total number of offending rows.
    detail : str
        Human-readable description without the column and rows.
    """

    kind: str
    column: str | None
    detail: str
    rows: tuple[int, ...] = ()
    n_rows: int = 0

    def message(self, width: int | None = None, *, name_width: int | None = None,
                max_rows: int = MAX_ROWS_SHOWN) -> str:
        """The problem in words: column, detail, rows.

        Parameters
        ----------
        width : int, optional
            Longest detail shown (examples of bad values are cut, with ``...``).
            None shows everything.
        name_width : int, optional
            Longest column name shown (cut in the middle); by default
            :data:`MAX_NAME_CHARS` when ``width`` is given, else the whole name.
        max_rows : int
            Rows listed before the rest are counted.

        Examples
        --------
        >>> Problem("out_of_range", "P1", "values outside the scale 1-5 (7, 9)", (2, 4, 8), 3).message()
        "column 'P1': values outside the scale 1-5 (7, 9) at rows 2, 4, 8"
        """
        detail = self.detail if width is None else _clip_detail(self.detail, width)
        if name_width is None and width is not None:
            name_width = MAX_NAME_CHARS
        column = self.column if name_width is None or self.column is None else shorten(self.column, name_width)
        text = detail if column is None else f"column {column!r}: {detail}"
        if self.n_rows:
            text += f" at {format_rows(self.rows, self.n_rows, max_rows)}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "column": self.column,
            "detail": self.detail,
            "rows": list(self.rows),
            "n_rows": self.n_rows,
        }


@dataclass(frozen=True)
class _Style:
    """How much of each problem a one-line message shows."""

    rows: int
    detail: int
    name: int
    source: int


#: tried in order until a one-line message fits; a problem named briefly beats one not named
_STYLES = (
    _Style(rows=5, detail=MAX_DETAIL_CHARS, name=MAX_NAME_CHARS, source=MAX_DETAIL_CHARS),
    _Style(rows=3, detail=120, name=40, source=MAX_NAME_CHARS),
    _Style(rows=3, detail=80, name=30, source=40),
    _Style(rows=2, detail=60, name=24, source=30),
    _Style(rows=1, detail=40, name=20, source=24),
)


def _render(problems: Sequence[Problem], style: _Style, group: bool) -> list[str]:
    """Problems as message pieces; with ``group``, a run of problems with the same detail in
    several columns is said once: ``"missing values (...) in columns 'P1' (rows 3, 9), 'P2' (row 4)"``."""
    out: list[str] = []
    i = 0
    while i < len(problems):
        p = problems[i]
        j = i + 1
        while (group and j < len(problems) and p.column is not None and problems[j].column is not None
               and (problems[j].kind, problems[j].detail) == (p.kind, p.detail)):
            j += 1
        if j - i == 1:
            out.append(p.message(style.detail, name_width=style.name, max_rows=style.rows))
        else:
            cols = []
            for q in problems[i:j]:
                name = repr(shorten(q.column or "", style.name))
                cols.append(f"{name} ({format_rows(q.rows, q.n_rows, style.rows)})" if q.n_rows else name)
            out.append(f"{_clip_detail(p.detail, style.detail)} in columns {', '.join(cols)}")
        i = j
    return out


class ValidationError(ServmodelsError, ValueError):
    """Survey data fail validation.

    ``str(error)`` is one line listing the first :data:`MAX_PROBLEMS_IN_STR` problems
    (long values and names elided) and how many more there are; :attr:`problems`
    holds every problem as a structured :class:`Problem`, and :meth:`report` lists
    them all, one per line.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], source: str | None = None):
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        #: a message to show instead of the list of problems (e.g. "the data are on another sheet")
        self.override: str | None = None
        #: one more sentence after the list of problems (how the file was probably misread)
        self.hint: str | None = None
        super().__init__(self.one_line(MAX_PROBLEMS_IN_STR, more="the .problems attribute lists all"))

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns named by at least one problem, in order of first mention."""
        return tuple(dict.fromkeys(p.column for p in self.problems if p.column is not None))

    def _head(self, source_width: int | None) -> str:
        where = ""
        if self.source and source_width != 0:
            where = " in " + (self.source if source_width is None else shorten(self.source, source_width))
        n = len(self.problems)
        return f"invalid survey data{where} ({n} problem{'s' if n != 1 else ''})"

    def one_line(
        self,
        max_problems: int = 5,
        *,
        max_chars: int | None = None,
        more: str | None = None,
        rewrite: Callable[[str], str] | None = None,
        show_source: bool = True,
    ) -> str:
        """One line naming the first ``max_problems`` problems and how many more there are.

        With ``max_chars``, problems with the same detail in consecutive columns are
        said once, with the columns and their rows after it.

        Parameters
        ----------
        max_problems : int
            Problems listed; the rest are counted as ``"and N more"``.
        max_chars : int, optional
            Upper bound of the line's length.  Fewer rows are listed and long
            details, column names and the source elided first; only then are fewer
            problems listed.
        more : str, optional
            Said after the count of problems not listed, e.g. how to see them all.
        rewrite : callable, optional
            Applied to every problem detail first (the CLI spells
            ``nan_policy='omit'`` as ``--nan-policy omit``).
        show_source : bool
            Name the source (file) after "invalid survey data".

        Returns
        -------
        str

        Examples
        --------
        >>> probs = [Problem("missing_value", f"P{i}", "missing values", (i,), 1) for i in range(1, 9)]
        >>> ValidationError(probs, "s.csv").one_line(2, more="see .problems")
        "invalid survey data in s.csv (8 problems): column 'P1': missing values at row 1; column 'P2': missing values at row 2; and 6 more (see .problems)"
        >>> ValidationError(probs, "s.csv").one_line(2, max_chars=200)
        "invalid survey data in s.csv (8 problems): missing values in columns 'P1' (row 1), 'P2' (row 2); and 6 more"
        """
        problems = [p if rewrite is None else replace(p, detail=rewrite(p.detail)) for p in self.problems]
        k0 = max(0, min(max_problems, len(problems)))
        for k in range(k0, -1, -1):
            for style in _STYLES:
                line = self._join(style, problems[:k], more, show_source, group=max_chars is not None)
                if max_chars is None or len(line) <= max_chars:
                    return line
        return shorten(self._join(_STYLES[-1], [], more, show_source), max_chars or 0, keep="start")

    def _join(self, style: _Style, shown: Sequence[Problem], more: str | None, show_source: bool,
              group: bool = False) -> str:
        parts = _render(shown, style, group)
        k = len(shown)
        extra = len(self.problems) - k
        if extra > 0:
            count = f"and {extra} more" if k else f"{extra} not listed"
            parts.append(count + (f" ({more})" if more else ""))
        return self._head(style.source if show_source else 0) + ": " + "; ".join(parts)

    def report(self) -> str:
        """Every problem, one per line under a heading (values and names elided past 200 characters)."""
        style = _STYLES[0]
        lines = [self._head(None) + ":"]
        lines += [f"  - {p.message(style.detail, name_width=style.name * 2)}" for p in self.problems]
        return "\n".join(lines)


class ServmodelsWarning(UserWarning):
    """Root of all warnings issued by servmodels; results also record them."""


class ConstantItemWarning(ServmodelsWarning):
    """An item has zero variance, so correlations involving it are undefined."""


class SmallSampleWarning(ServmodelsWarning):
    """Too few respondents for the requested statistic to be trustworthy."""


class NegativeReliabilityWarning(ServmodelsWarning):
    """A reliability coefficient is negative (items negatively correlated on average)."""


class NonConvergenceWarning(ServmodelsWarning):
    """An optimiser stopped before reaching the solution; the message gives the iteration count."""


class HeywoodCaseWarning(ServmodelsWarning):
    """A negative variance estimate or a standardized loading above 1 in absolute value."""


class NonPositiveDefiniteWarning(ServmodelsWarning):
    """A latent covariance matrix (Psi) or residual matrix (Theta) is not positive definite."""


class ReverseKeyWarning(ServmodelsWarning):
    """Items correlate negatively with their dimension: probably reverse-keyed and not declared."""


class SingularDataWarning(ServmodelsWarning):
    """The items of a score set have a singular covariance matrix, named by its cause.

    Identical items, perfectly correlated or collinear items, or no more respondents
    than items: every factor model, EFA, KMO and Bartlett's test of the set will fail.
    Issued at validation, before any model is fitted.
    """
