"""Progress bars for long work (bootstraps, parallel analysis, cross-validation, reports, streaming).

One place decides how progress is shown: a ``tqdm`` bar on stderr.  Library functions take
``progress=False`` by default and pass their flag here; the CLI turns it on when stderr is a
terminal and ``--quiet`` is not given.  A bar only counts work that is done anyway, so it never
changes a result; callers update it once per batch, chunk or iteration, never per resample row.

A disabled bar is a no-op object, so library calls without progress do not import tqdm.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["progress", "Progress"]

#: seconds before a bar first appears: work that finishes sooner leaves the terminal untouched
DELAY = 0.5


class Progress:
    """The no-op bar: the subset of tqdm's interface servmodels uses (``update``, ``close``, ``with``)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def progress(total: int | None, desc: str, enabled: bool | None = None, *, unit: str = "it") -> Any:
    """A progress bar over ``total`` units of work (``None``: unknown total, a counter).

    ``enabled=None`` shows the bar when stderr is a terminal; ``True``/``False`` force it on or
    off.  The returned object has ``update(n)`` and ``close()`` and is a context manager.  The
    bar writes to stderr, clears itself when done, and appears only after :data:`DELAY`
    seconds.

    Examples
    --------
    >>> with progress(3, "demo", enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    """
    stream = sys.stderr
    if enabled is None:
        isatty = getattr(stream, "isatty", None)
        enabled = bool(isatty and isatty())
    if not enabled:
        return Progress()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=stream, leave=False, delay=DELAY, dynamic_ncols=True,
                unit_scale=total is None)
