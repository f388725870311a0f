"""servmodels — inference for SERVQUAL-family service-quality surveys.

Data flow: ``read_survey`` / ``validate_survey`` -> :class:`SurveyData` ->
estimators (``score``, ``item_analysis``, ...) -> frozen results with
``to_frame()``, ``to_dict()`` and ``summary()``.
"""

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
    ServmodelsError,
    ServmodelsWarning,
    SingularDataWarning,
    SmallSampleWarning,
    ValidationError,
)
from ._results import Result
from ._validation import validate_survey
from .bootstrap import BootstrapResult, adjust_pvalues, bootstrap, gap_bootstrap
from .data import SurveyData
from .datasets import example_path, load_example, load_seed_table8
from .ikm import IKMResult, ikm, ikm_instrument
from .instrument import Instrument, get_instrument, list_instruments
from .io import read_survey, read_table
from .ipa import IPAResult, ipa
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
    SEMOptions,
    cfa,
    ep_structure_test,
    instrument_model,
    measurement_invariance,
)
from .simulate import simulate_servqual
from .validity import EFAResult, ValidityResult, efa, validity

__version__ = "0.1.0"

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
    "instrument_model",
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
    "RegressionResult",
    "BootstrapResult",
    "IPAResult",
    "IKMResult",
    "ComparisonResult",
    "EFAResult",
    "InvarianceResult",
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
    "SingularDataWarning",
    "__version__",
]
