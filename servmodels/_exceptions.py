"""Exception and warning hierarchy.

Every error servmodels raises on purpose derives from :class:`ServmodelsError`, so
callers (and the CLI) can catch one class.  Validation errors carry structured
:class:`Problem` records that name the offending column(s) and 1-based row(s).
"""

from __future__ import annotations

from dataclasses import dataclass

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
]

#: how many offending rows a message lists before summarising with a count
MAX_ROWS_SHOWN = 5


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


def format_rows(rows: tuple[int, ...], n_total: int | None = None) -> str:
    """Render 1-based row numbers as ``"row 4"`` or ``"rows 4, 9, 12 and 37 more"``."""
    n_total = len(rows) if n_total is None else n_total
    shown = ", ".join(str(r) for r in rows[:MAX_ROWS_SHOWN])
    word = "row" if n_total == 1 else "rows"
    extra = n_total - min(len(rows), MAX_ROWS_SHOWN)
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

    def message(self) -> str:
        text = self.detail if self.column is None else f"column {self.column!r}: {self.detail}"
        if self.n_rows:
            text += f" at {format_rows(self.rows, self.n_rows)}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "column": self.column,
            "detail": self.detail,
            "rows": list(self.rows),
            "n_rows": self.n_rows,
        }


class ValidationError(ServmodelsError, ValueError):
    """Survey data fail validation.

    ``str(error)`` is a single line listing every problem found (not just the
    first); :attr:`problems` holds them as structured :class:`Problem` records.
    """

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], source: str | None = None):
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        where = f" in {source}" if source else ""
        n = len(self.problems)
        head = f"invalid survey data{where} ({n} problem{'s' if n != 1 else ''})"
        super().__init__(head + ": " + "; ".join(p.message() for p in self.problems))

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns named by at least one problem, in order of first mention."""
        return tuple(dict.fromkeys(p.column for p in self.problems if p.column is not None))


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
