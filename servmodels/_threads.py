"""BLAS threads for the small dense linear algebra of model fits.

A factor-model fit multiplies and factors matrices of a few hundred rows at most.
OpenBLAS (numpy's BLAS) splits such products over threads that spin while they wait:
on this project's 2-core benchmark machine one ML fit at n = 1 000 took 14 ms with one
BLAS thread and 20 ms with two, and 0.3 s instead of 0.05 s whenever another process
was busy (docs/cli.md, *Start-up and whole-process time*).  Fits therefore run with one
BLAS thread; large array work elsewhere (bootstrap counts, scoring) keeps numpy's
default.  threadpoolctl is the scikit-learn project's tool for exactly this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["single_threaded_blas"]


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with one BLAS thread (restored afterwards); a no-op without threadpoolctl.

    Examples
    --------
    >>> import numpy as np
    >>> with single_threaded_blas():
    ...     float(np.linalg.det(np.eye(3)))
    1.0
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn, a core dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
