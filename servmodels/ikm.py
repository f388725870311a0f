"""Indeks Kepuasan Masyarakat (IKM) per PermenPANRB No. 14 Tahun 2017.

Nine service elements (unsur) answered 1-4 by each respondent.  The element mean (NRR) is
the mean answer; the index is ``25 x mean of the nine element means`` (exact weights 1/9),
or, with the regulation's rounded shortcut, ``25 x sum(0.11 x NRR_i)``.  Grades:
A 88.31-100 (Sangat Baik), B 76.61-88.30 (Baik), C 65.00-76.60 (Kurang Baik),
D 25.00-64.99 (Tidak Baik).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._inputs import survey_input
from ._params import check_confidence_level, check_int, check_rng
from ._results import Result, jsonable, text_table
from .data import SurveyData
from .instrument import Instrument  # noqa: F401  (type of ikm_instrument's result)

__all__ = ["IKM_ELEMENTS", "IKMResult", "ikm", "ikm_grade", "ikm_instrument"]

IKM_ELEMENTS: dict[str, str] = {
    "1": "Persyaratan",
    "2": "Sistem, mekanisme dan prosedur",
    "3": "Waktu penyelesaian",
    "4": "Biaya/tarif",
    "5": "Produk spesifikasi jenis pelayanan",
    "6": "Kompetensi pelaksana",
    "7": "Perilaku pelaksana",
    "8": "Penanganan pengaduan, saran dan masukan",
    "9": "Sarana dan prasarana",
}

_GRADES = [(88.31, "A", "Sangat Baik", "Very good"), (76.61, "B", "Baik", "Good"),
           (65.00, "C", "Kurang Baik", "Poor"), (25.00, "D", "Tidak Baik", "Very poor")]


def ikm_instrument() -> Instrument:
    """The nine-element IKM questionnaire (preset ``"ikm9"``): columns ``U1..U9``, answers 1-4."""
    from .instrument import get_instrument

    return get_instrument("ikm9")


def ikm_grade(index: float) -> tuple[str, str, str]:
    """(grade, Indonesian label, English label) of an IKM value on the 25-100 scale.

    Examples
    --------
    >>> ikm_grade(91.48)
    ('A', 'Sangat Baik', 'Very good')
    """
    for lo, g, id_label, en_label in _GRADES:
        if index >= lo - 1e-9:
            return g, id_label, en_label
    return "D", "Tidak Baik", "Very poor"


@dataclass(frozen=True)
class IKMResult(Result):
    """IKM of a survey (frozen): element means, exact and shortcut index, grade, bootstrap CI."""

    elements: pd.DataFrame
    index: float
    index_shortcut: float
    grade: str
    grade_label_id: str
    grade_label_en: str
    ci_low: float
    ci_high: float
    n_respondents: int
    n_dropped: int
    n_resamples: int
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The element table with a ``code`` column."""
        return self.elements.reset_index()

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["elements"] = self.elements.reset_index()
        return jsonable(out)

    def summary(self, digits: int = 2) -> str:
        return (f"IKM = {self.index:.2f} [{self.ci_low:.2f}, {self.ci_high:.2f}] ({self.grade}, {self.grade_label_id}); "
                f"rounded-weight shortcut {self.index_shortcut:.2f}; n = {self.n_respondents}\n"
                + text_table(self.elements.reset_index(), digits))


def _index(means: np.ndarray) -> float:
    return float(25.0 * means.mean())


@survey_input
def ikm(data: SurveyData, *, n_resamples: int = 2000, rng: int | np.random.Generator | None = None,
        confidence_level: float = 0.95) -> IKMResult:
    """IKM per PermenPANRB 14/2017 with a bootstrap percentile interval.

    ``data`` is read with :func:`ikm_instrument` (or any one-score-set instrument whose
    dimensions are the elements).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from servmodels import validate_survey
    >>> answers = np.random.default_rng(0).integers(2, 5, size=(30, 9))  # 30 respondents, 9 elements
    >>> df = pd.DataFrame(answers, columns=[f"U{k}" for k in range(1, 10)])
    >>> res = ikm(validate_survey(df, ikm_instrument()), n_resamples=0)
    >>> round(res.index, 2), round(float(answers.mean()) * 25, 2)  # equal weights: 25 x the mean answer
    (76.67, 76.67)
    """
    from .bootstrap import bootstrap

    n_resamples = check_int("n_resamples", n_resamples, low=0)
    rng = check_rng(rng)
    confidence_level = check_confidence_level(confidence_level)
    data.require_complete("ikm")
    sset = data.score_sets[0]
    X = data.responses[sset].astype(float)
    inst = data.instrument
    pos = {item: j for j, item in enumerate(inst.items)}
    groups = [[pos[i] for i in inst.dimensions[d]] for d in inst.dimension_names]
    means = np.array([X[:, g].mean() for g in groups])
    idx = _index(means)
    shortcut = float(25.0 * (0.11 * means).sum())
    g, lab_id, lab_en = ikm_grade(idx)
    lo = hi = np.nan
    if n_resamples:
        ci = bootstrap(lambda rows: _index(np.array([rows[:, gg].mean() for gg in groups])), X, method="percentile",
                       n_resamples=n_resamples, rng=rng, confidence_level=confidence_level)
        lo, hi = float(ci["ci_low"].iloc[0]), float(ci["ci_high"].iloc[0])
    labels = [inst.item_labels.get(inst.dimensions[d][0], d) if len(inst.dimensions[d]) == 1 else d for d in inst.dimension_names]
    elements = pd.DataFrame({"element": labels, "total": [X[:, gg].sum() for gg in groups], "mean": means,
                             "weighted_mean": means / len(means)},
                            index=pd.Index(inst.dimension_names, name="code"))
    return IKMResult(elements, idx, shortcut, g, lab_id, lab_en, lo, hi, data.n_respondents, data.n_dropped, n_resamples,
                     data.warnings)
