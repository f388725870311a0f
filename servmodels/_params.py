"""One place for argument checks (in the spirit of scikit-learn's ``validate_params``).

Every public function checks its options through these helpers, so a wrong
value always raises :class:`ParameterError` (a ``ValueError``) with the same
wording: the parameter's name, what was given, and what is allowed.  In the CLI
the parameter is named by its flag (``--n-resamples``), in Python by its keyword.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from ._exceptions import ParameterError

# numpy is imported inside the checks that need it (``import numpy`` in a function is a
# dictionary look-up once loaded): the CLI checks its options while parsing, before and
# without the numerical stack (``servmodels --help`` stays fast).

__all__ = ["check_choice", "check_interval", "check_int", "check_float", "check_type", "check_bool",
           "check_str_list", "check_confidence_level", "check_rng", "check_cluster"]

T = TypeVar("T")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_choice(name: str, value: Any, choices: Iterable[T], *, case_insensitive: bool = False) -> T:
    """``value`` if it is one of ``choices`` (optionally ignoring case), else ParameterError.

    >>> check_choice("estimator", "mlr", ("ML", "MLR"), case_insensitive=True)
    'MLR'
    """
    options = tuple(choices)
    if case_insensitive and isinstance(value, str):
        for c in options:
            if isinstance(c, str) and c.lower() == value.lower():
                return c
    elif value in options and not isinstance(value, (list, dict, set)):
        for c in options:
            if c == value and type(c) is type(value):
                return c
    shown = ", ".join(repr(c) for c in options)
    raise ParameterError(f"{name} must be one of {shown}; got {_show(value)}")


def check_bool(name: str, value: Any) -> bool:
    """A real bool (numpy bools accepted); ``1``/``"yes"`` are refused to catch swapped arguments."""
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ParameterError(f"{name} must be True or False; got {_show(value)}")


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None,
              allow_none: bool = False) -> int | None:
    """An integer within [low, high] (bounds inclusive); floats with an integral value are accepted.

    >>> check_int("n_resamples", 1000, low=1)
    1000
    """
    import numpy as np

    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, float, np.floating)):
        raise ParameterError(f"{name} must be an integer; got {_show(value)}")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or value != int(value):
            raise ParameterError(f"{name} must be an integer; got {_show(value)}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ParameterError(f"{name} must be {_bounds(low, high, True, True)}; got {v}")
    return v


def _bounds(low: Any, high: Any, low_closed: bool, high_closed: bool) -> str:
    if low is not None and high is not None:
        return f"in {'[' if low_closed else '('}{low}, {high}{']' if high_closed else ')'}"
    if low is not None:
        return f"{'>=' if low_closed else '>'} {low}"
    return f"{'<=' if high_closed else '<'} {high}"


def check_float(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                low_closed: bool = True, high_closed: bool = True, allow_none: bool = False) -> float | None:
    """A finite real number within the interval.

    >>> check_float("tol", 1e-6, low=0, low_closed=False)
    1e-06
    """
    import numpy as np

    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise ParameterError(f"{name} must be a number; got {_show(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be a finite number; got {v}")
    bad = (low is not None and (v < low or (v == low and not low_closed))) or \
          (high is not None and (v > high or (v == high and not high_closed)))
    if bad:
        raise ParameterError(f"{name} must be {_bounds(low, high, low_closed, high_closed)}; got {v:g}")
    return v


check_interval = check_float


def check_confidence_level(value: Any, name: str = "confidence_level") -> float:
    """A confidence level strictly between 0 and 1 (0.95, not 95).

    >>> check_confidence_level(0.9)
    0.9
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and 1 < float(value) < 100:
        raise ParameterError(f"{name} must be in (0, 1), e.g. 0.95 (not {value:g})")
    out = check_float(name, value, low=0.0, high=1.0, low_closed=False, high_closed=False)
    assert out is not None
    return out


def check_type(name: str, value: Any, types: type | tuple[type, ...], what: str | None = None) -> Any:
    """``value`` if it is an instance of ``types``; ``what`` describes them for the message."""
    if not isinstance(value, types):
        if what is None:
            tt = types if isinstance(types, tuple) else (types,)
            what = " or ".join(t.__name__ for t in tt)
        raise ParameterError(f"{name} must be {what}; got {type(value).__name__} {_show(value)}")
    return value


def check_str_list(name: str, value: Any, *, allow_none: bool = True) -> tuple[str, ...] | None:
    """A string or a sequence of strings, as a tuple (``"village"`` -> ``("village",)``, never characters).

    >>> check_str_list("groups", "village")
    ('village',)
    """
    import numpy as np

    if value is None and allow_none:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) or isinstance(value, (set, frozenset, np.ndarray)):
        items = list(value)
        if all(isinstance(v, str) for v in items):
            return tuple(items)
    raise ParameterError(f"{name} must be a column name or a list of column names; got {_show(value)}")


def check_rng(value: Any, name: str = "rng") -> Any:
    """A seed (non-negative int), a ``SeedSequence``, a ``numpy.random.Generator`` or None."""
    import numpy as np

    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return value
    if isinstance(value, (numbers.Integral,)) and not isinstance(value, (bool, np.bool_)):
        if int(value) < 0:
            raise ParameterError(f"{name} (a seed) must be >= 0; got {int(value)}")
        return int(value)
    raise ParameterError(f"{name} must be a seed (int), a numpy Generator or None; got {_show(value)}")


def check_cluster(cluster: Any, groups: Any, source: str = "<data>") -> Any:
    """The ids of the cluster column ``cluster`` of ``groups`` (a DataFrame of the grouping
    columns read with the data), for ``cluster=`` of cfa, regress, compare and the
    bootstrap: a column name, read with the data, with at least two clusters.

    >>> import pandas as pd
    >>> check_cluster("village", pd.DataFrame({"village": ["a", "b", "a"]})).tolist()
    ['a', 'b', 'a']
    """
    import pandas as pd

    from ._exceptions import Problem, ValidationError

    check_type("cluster", cluster, str, "a column name (str)")
    if cluster not in groups.columns:
        shown = ", ".join(map(str, groups.columns)) or "none"
        raise ParameterError(f"cluster must be a grouping column read with the data (read_survey(..., groups=[...])); "
                             f"got {cluster!r}, available: {shown}")
    ids = groups[cluster]
    missing = pd.isna(ids).to_numpy()
    if missing.any():
        import numpy as np

        hit = np.flatnonzero(missing)
        raise ValidationError([Problem("missing_value", cluster, "missing cluster ids",
                                       tuple(int(h) + 1 for h in hit[:5]), int(hit.size))], source)
    n_clusters = int(ids.nunique())
    if n_clusters < 2:
        raise ValidationError([Problem("too_few", cluster, f"{n_clusters} cluster(s); cluster-robust statistics "
                                       "need at least two")], source)
    return ids.to_numpy()
