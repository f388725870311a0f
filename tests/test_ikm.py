import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.ikm import ikm, ikm_grade, ikm_instrument


def test_regulation_worked_example():
    # PermenPANRB 14/2017 worked example: 29 respondents, element totals below;
    # exact weights 25 * mean(totals / 29) = 25 * 955 / 261 = 91.48; shortcut 25 * 0.11 * sum = 90.56
    totals = [105, 101, 100, 116, 102, 105, 106, 105, 115]
    rng = np.random.default_rng(0)
    cols = {}
    for k, t in enumerate(totals, start=1):
        # 29 answers in 1..4 with the given total
        base = np.full(29, t // 29)
        base[: t - base.sum()] += 1
        cols[f"U{k}"] = rng.permutation(base)
    with pytest.warns(sm.ConstantItemWarning, match="U4"):  # 116 = 29 x 4: everyone answered 4
        data = sm.validate_survey(pd.DataFrame(cols), ikm_instrument())
    res = ikm(data, n_resamples=200, rng=1)
    assert res.index == pytest.approx(25 * 955 / 261, rel=1e-12)
    assert round(res.index, 2) == 91.48
    assert round(res.index_shortcut, 2) == 90.56
    assert (res.grade, res.grade_label_id) == ("A", "Sangat Baik")
    assert res.ci_low <= res.index <= res.ci_high
    np.testing.assert_allclose(res.elements["total"], totals)


@pytest.mark.parametrize("value, grade", [(100, "A"), (88.31, "A"), (88.30, "B"), (76.61, "B"), (76.60, "C"),
                                          (65.0, "C"), (64.99, "D"), (25.0, "D")])
def test_grade_boundaries(value, grade):
    assert ikm_grade(value)[0] == grade
