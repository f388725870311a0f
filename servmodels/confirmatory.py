"""Deprecated location of the CFA API, kept so existing code keeps working.

Everything lives in :mod:`servmodels.sem` now; import from there (or from
``servmodels`` directly).
"""

from ._exceptions import HeywoodCaseWarning, NonConvergenceWarning, NonPositiveDefiniteWarning
from .sem import (
    CFAResult,
    InvarianceResult,
    SEMOptions,
    cfa,
    ep_structure_test,
    instrument_model,
    measurement_invariance,
)

__all__ = [
    "CFAResult",
    "InvarianceResult",
    "SEMOptions",
    "cfa",
    "instrument_model",
    "measurement_invariance",
    "ep_structure_test",
    "HeywoodCaseWarning",
    "NonConvergenceWarning",
    "NonPositiveDefiniteWarning",
]
