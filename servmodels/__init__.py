"""servmodels — inference for SERVQUAL-family service-quality surveys.

Data flow: ``read_survey`` / ``validate_survey`` -> :class:`SurveyData` ->
estimators (``score``, ``item_analysis``, ...) -> frozen results with
``to_frame()``, ``to_dict()`` and ``summary()``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public names are loaded on first use (PEP 562), so ``import servmodels`` and
# ``servmodels --version`` do not import numpy, pandas, scipy & co.  Every name below
# is importable as before (``from servmodels import score``); type checkers and IDEs
# read the TYPE_CHECKING block.  A test checks that the two lists agree.
if TYPE_CHECKING:
    from ._exceptions import (
        ConstantItemWarning,
        ConvergenceError,
        DataFileError,
        DataFileNotFoundError,
        HeywoodCaseWarning,
        InstrumentError,
        ModelSpecificationError,
        NegativeReliabilityWarning,
        NonConvergenceWarning,
        NonPositiveDefiniteWarning,
        NumericalError,
        ParameterError,
        Problem,
        ReverseKeyWarning,
        ServmodelsError,
        ServmodelsWarning,
        SingularDataWarning,
        SmallSampleWarning,
        ValidationError,
    )
    from ._results import Result
    from ._validation import validate_survey
    from .analysis import Analysis, analyze
    from .bootstrap import BootstrapResult, adjust_pvalues, bootstrap, gap_bootstrap
    from .data import SurveyData
    from .datasets import example_path, load_example, load_seed_table8
    from .ikm import IKMResult, ikm, ikm_instrument
    from .instrument import Instrument, get_instrument, list_instruments
    from .io import read_survey, read_table
    from .ipa import IPAResult, ipa
    from .omega import HigherOrderOmegaResult, OmegaResult, omega_hierarchical, omega_higher_order
    from .planning import (
        GapPlanResult,
        PilotEstimates,
        RMSEAPlanResult,
        SimulationPlanResult,
        estimate_pilot,
        plan_gap,
        plan_rmsea,
        plan_rmsea_nested,
        plan_simulate,
    )
    from .polychoric import PolychoricResult, polychoric
    from .regression import (
        ComparisonResult,
        RegressionResult,
        RelativeImportanceResult,
        compare_servqual_servperf,
        regress,
        relative_importance,
    )
    from .reliability import (
        AlphaResult,
        ItemAnalysisResult,
        OrdinalReliabilityResult,
        critical_r,
        cronbach_alpha,
        item_analysis,
        ordinal_reliability,
    )
    from .scoring import ScoreMoments, ScoreResult, score, score_summary
    from .sem import (
        CFAResult,
        InvarianceResult,
        LatentGapResult,
        SEMOptions,
        cfa,
        ep_structure_test,
        instrument_model,
        latent_gap,
        measurement_invariance,
    )
    from .simulate import simulate_servqual
    from .validity import EFAResult, ValidityResult, efa, validity

#: submodule (relative) -> the public names it provides
_SOURCES: dict[str, tuple[str, ...]] = {
    "._exceptions": (
        "ConstantItemWarning", "ConvergenceError", "DataFileError", "DataFileNotFoundError", "HeywoodCaseWarning",
        "InstrumentError", "ModelSpecificationError", "NegativeReliabilityWarning", "NonConvergenceWarning",
        "NonPositiveDefiniteWarning", "NumericalError", "ParameterError", "Problem", "ReverseKeyWarning", "ServmodelsError", "SingularDataWarning",
        "ServmodelsWarning", "SmallSampleWarning", "ValidationError",
    ),
    "._results": ("Result",),
    "._validation": ("validate_survey",),
    ".analysis": ("Analysis", "analyze"),
    ".bootstrap": ("BootstrapResult", "adjust_pvalues", "bootstrap", "gap_bootstrap"),
    ".data": ("SurveyData",),
    ".datasets": ("example_path", "load_example", "load_seed_table8"),
    ".ikm": ("IKMResult", "ikm", "ikm_instrument"),
    ".instrument": ("Instrument", "get_instrument", "list_instruments"),
    ".io": ("read_survey", "read_table"),
    ".ipa": ("IPAResult", "ipa"),
    ".planning": (
        "GapPlanResult", "PilotEstimates", "RMSEAPlanResult", "SimulationPlanResult", "estimate_pilot", "plan_gap",
        "plan_rmsea", "plan_rmsea_nested", "plan_simulate",
    ),
    ".omega": ("HigherOrderOmegaResult", "OmegaResult", "omega_hierarchical", "omega_higher_order"),
    ".polychoric": ("PolychoricResult", "polychoric"),
    ".regression": (
        "ComparisonResult", "RegressionResult", "RelativeImportanceResult", "compare_servqual_servperf", "regress",
        "relative_importance",
    ),
    ".reliability": (
        "AlphaResult", "ItemAnalysisResult", "OrdinalReliabilityResult", "critical_r", "cronbach_alpha",
        "item_analysis", "ordinal_reliability",
    ),
    ".scoring": ("ScoreMoments", "ScoreResult", "score", "score_summary"),
    ".sem": (
        "CFAResult", "InvarianceResult", "LatentGapResult", "SEMOptions", "cfa", "ep_structure_test",
        "instrument_model", "latent_gap", "measurement_invariance",
    ),
    ".simulate": ("simulate_servqual",),
    ".validity": ("EFAResult", "ValidityResult", "efa", "validity"),
}
_EXPORTS: dict[str, str] = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = [
    # data in
    "Instrument",
    "get_instrument",
    "list_instruments",
    "read_survey",
    "read_table",
    "validate_survey",
    "SurveyData",
    # estimators
    "score",
    "score_summary",
    "item_analysis",
    "cronbach_alpha",
    "critical_r",
    "ordinal_reliability",
    "validity",
    "omega_hierarchical",
    "omega_higher_order",
    "regress",
    "gap_bootstrap",
    "ipa",
    "ikm",
    "ikm_instrument",
    "bootstrap",
    "adjust_pvalues",
    "relative_importance",
    "compare_servqual_servperf",
    "efa",
    "polychoric",
    "cfa",
    "measurement_invariance",
    "SEMOptions",
    "ep_structure_test",
    "latent_gap",
    "instrument_model",
    "analyze",
    # study planning
    "plan_rmsea",
    "plan_rmsea_nested",
    "plan_gap",
    "plan_simulate",
    "estimate_pilot",
    # results
    "Result",
    "ScoreResult",
    "ScoreMoments",
    "RelativeImportanceResult",
    "ItemAnalysisResult",
    "AlphaResult",
    "OrdinalReliabilityResult",
    "PolychoricResult",
    "CFAResult",
    "ValidityResult",
    "OmegaResult",
    "HigherOrderOmegaResult",
    "RegressionResult",
    "BootstrapResult",
    "IPAResult",
    "IKMResult",
    "ComparisonResult",
    "EFAResult",
    "InvarianceResult",
    "LatentGapResult",
    "Analysis",
    "RMSEAPlanResult",
    "GapPlanResult",
    "SimulationPlanResult",
    "PilotEstimates",
    # data
    "simulate_servqual",
    "load_example",
    "load_seed_table8",
    "example_path",
    # errors and warnings
    "ServmodelsError",
    "ValidationError",
    "DataFileError",
    "DataFileNotFoundError",
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
    "ReverseKeyWarning",
    "SingularDataWarning",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name.isidentifier() and not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}"):
        return importlib.import_module(f".{name}", __name__)  # ``servmodels.sem`` etc., as after an eager import
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """Keeps ``servmodels.bootstrap`` (``validity``, ``ipa``, ...) the public function after
    its same-named submodule is imported: the import system then sets the package attribute
    to the submodule, which eager imports in this file used to overwrite with the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name) == f".{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
