"""Residuals of complete-data MLR fits against lavaan 0.6-14 (tests/reference/R/lavaan_mlr_residuals.R ->
tests/reference/lavaan_mlr_residuals.json; lavaan's estimates Newton-polished, polish.R).

lavaan standardizes MLR residuals with the sandwich acov of the sample moments (not the normal-theory
one of ML): on Holzinger-Swineford x7 ~~ x8 is 4.450 with MLR and 4.823 with ML.  Holzinger & Swineford
(public data): one group, one group with a mean structure, two schools.  Tolerance: 1e-6 absolute
(agreement ~1e-10).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "lavaan_mlr_residuals.json").read_text())
HS = pd.read_csv(HERE / "reference" / "data" / "holzinger_swineford.csv")
CASES = {"hs": {}, "hs_means": {"meanstructure": True}, "hs_mg": {"group": "school"}}


@pytest.mark.parametrize("name", list(CASES))
def test_mlr_residuals_match_lavaan(name):
    res = sm.cfa(HS, REF["model"], estimator="MLR", **CASES[name])
    ref = REF[name]
    assert res.fit["chisq"] == pytest.approx(ref["chisq"], rel=1e-6)
    for kind in ("raw", "normalized", "standardized"):
        block = ref["residuals"][kind]
        groups = [block[g] for g in ref["group_labels"]] if isinstance(block, dict) else block
        for g, theirs in enumerate(groups):
            np.testing.assert_allclose(res.residuals[kind][g].to_numpy(), np.array(theirs["cov"], dtype=float),
                                       rtol=0, atol=1e-6, err_msg=f"{kind} group {g}")
    ml = sm.cfa(HS, REF["model"], **CASES[name])
    # not the normal-theory residuals of ML: the robust acov changes them (misfit: some beyond 3)
    assert np.abs(res.residuals["standardized"][0].to_numpy() - ml.residuals["standardized"][0].to_numpy()).max() > 0.1
    assert np.abs(res.residuals["standardized"][0].to_numpy()).max() > 3
