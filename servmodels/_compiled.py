"""Optional compiled kernels (numba), loaded lazily and only for large inputs.

Every kernel in :mod:`servmodels._kernels` has a pure-numpy twin that gives identical results
(tested against each other); the numpy code is used when

* numba is not installed (it is an optional dependency: ``pip install servmodels[fast]``),
* the environment variable ``SERVMODELS_NO_NUMBA`` is set to anything but ``""`` or ``"0"``
  (read at every call, so it can be switched in a running process), or
* the input is small (below each caller's threshold): importing numba takes about half a second
  and compiling - or loading the compiled code from numba's cache - a little more the first time,
  which a 100-row survey should not pay.

Kernels are compiled with ``cache=True`` (machine code kept in ``__pycache__`` or numba's cache
directory), ``nogil=True`` (worker threads run them in parallel) and without ``fastmath``: every
kernel does exact integer arithmetic, so its results do not depend on the compiler's choices.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import ModuleType

__all__ = ["ENV_DISABLE", "kernels", "numba_disabled", "numpy_only"]

#: set to anything but "" or "0" to force the pure-numpy code
ENV_DISABLE = "SERVMODELS_NO_NUMBA"

_loaded: dict[str, ModuleType | None] = {}


_NUMPY_ONLY: ContextVar[bool] = ContextVar("servmodels_numpy_only", default=False)


def numba_disabled() -> bool:
    """True when ``SERVMODELS_NO_NUMBA`` asks for the pure-numpy code (or inside :func:`numpy_only`)."""
    return _NUMPY_ONLY.get() or os.environ.get(ENV_DISABLE, "").strip() not in ("", "0")


@contextmanager
def numpy_only() -> Iterator[None]:
    """Use the numpy code within this block (a job judged too small for numba as a whole, whose
    pieces would otherwise each decide for themselves)."""
    token = _NUMPY_ONLY.set(True)
    try:
        yield
    finally:
        _NUMPY_ONLY.reset(token)


def kernels(size: int | None = None, min_size: int = 0) -> ModuleType | None:
    """The compiled-kernel module, or None for the numpy fallback.

    ``size`` (work units of the whole job, e.g. draws or cells) below ``min_size`` returns None
    unless the kernels are loaded already (then they cost nothing more); numba is not imported.
    """
    if numba_disabled() or (size is not None and size < min_size and _loaded.get("k") is None):
        return None
    if "k" not in _loaded:
        try:
            from . import _kernels
        except ImportError:  # numba absent (or broken): the numpy code gives the same results
            _kernels = None  # type: ignore[assignment]
        _loaded["k"] = _kernels
    return _loaded["k"]
