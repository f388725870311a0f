"""Hierarchical omega against R (tests/reference/R/omega_hierarchical.R -> omega_hierarchical.json):
psych 2.2.9 ``omega`` (Schmid-Leiman) and semTools 0.5-6 ``compRelSEM(fit, higher = )`` on lavaan 0.6-14
second-order CFAs.

Tolerances:
* Schmid-Leiman against psych with tightened rotation/minres tolerances (``psych_tight``): omega_h,
  omega_total, omega_limit, alpha, G6, ECV 1e-6 relative; omega.group, the Schmid-Leiman loadings and
  the factor correlations 1e-6 absolute (observed agreement ~1e-7, optimiser output);
* against psych exactly as a user calls it (``psych_default``; varimax and oblimin stop at 1e-5):
  the scalars 1e-4 relative, omega.group and loadings 1e-4 absolute (observed ~1e-5);
* second-order CFA: chi-square and fit indices 1e-6 relative (scaled/robust 1e-4), estimates 5e-5
  relative + 1e-6, SEs and std_all 1e-4 relative; compRelSEM omegas 1e-5 relative (they move with the
  estimates).
"""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels._exceptions import ModelSpecificationError, ParameterError
from servmodels.cli import main
from servmodels.omega import omega_hierarchical, omega_higher_order, pairwise_correlation
from servmodels.sem import cfa

HERE = Path(__file__).parent / "reference"
REF = json.loads((HERE / "omega_hierarchical.json").read_text())
BFI = pd.read_csv(HERE / "data" / "bfi.csv")
BFI_INST = sm.get_instrument(HERE / "instruments" / "bfi.json")
SCALARS = ("omega_h", "omega_total", "omega_limit", "alpha", "g6", "ecv")


def _data(case: str):
    if case.startswith("bfi"):
        raw = dataclasses.replace(BFI_INST, reverse=())  # psych::omega sees the raw answers and flips items itself
        # keep incomplete respondents (pairwise correlations); the key check would (rightly) warn about A1, C4, ...
        return sm.read_survey(BFI, raw, nan_policy="fiml", check_keys=False)
    if case.startswith("example"):
        return sm.read_survey(pd.read_csv(HERE / "data" / "example.csv"), "servqual25", score_sets=["P"])
    return sm.read_survey(pd.read_csv(HERE / "data" / "sim25.csv"), "servqual25", scale=(1, 5), score_sets=["P"])


CASES = {"bfi_5": 5, "bfi_3": 3, "example_3": 3, "example_5": 5, "sim25_5": 5}
_FITS: dict[str, sm.OmegaResult] = {}


def _fit(case: str) -> sm.OmegaResult:
    if case not in _FITS:
        _FITS[case] = omega_hierarchical(_data(case), n_factors=CASES[case])
    return _FITS[case]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("which, rel, absolute", [("psych_tight", 1e-6, 1e-6), ("psych_default", 1e-4, 1e-4)])
def test_schmid_leiman_matches_psych_omega(case, which, rel, absolute):
    ref = REF[which][case]
    res = _fit(case)
    for k in SCALARS:
        assert getattr(res, k) == pytest.approx(ref[k], rel=rel), k
    groups = np.array(ref["omega_group"], dtype=float)
    assert list(res.groups.index) == ref["group_rows"]
    np.testing.assert_allclose(res.groups.to_numpy(), groups, rtol=0, atol=absolute)
    assert list(res.loadings.index) == ref["sl_rows"]  # flipped items marked "-" as psych does
    assert list(res.loadings.columns) == ref["sl_cols"]
    np.testing.assert_allclose(res.loadings.to_numpy(), np.array(ref["sl"], dtype=float), rtol=0, atol=absolute)
    np.testing.assert_allclose(res.phi.to_numpy(), np.array(ref["phi"], dtype=float), rtol=0, atol=10 * absolute)


def test_bfi_flips_the_negatively_keyed_items_and_uses_pairwise_correlations():
    res = _fit("bfi_5")
    assert set(res.flipped) == {"A1", "C4", "C5", "E1", "E2", "O2", "O5", "N1", "N2", "N3", "N4", "N5", "O4"}
    assert res.missing == "pairwise" and res.n_respondents == 2800
    # reverse-keying the items beforehand (the instrument's keys) leaves omega unchanged
    keyed = omega_hierarchical(sm.read_survey(BFI, BFI_INST, nan_policy="fiml"), n_factors=5)
    assert keyed.omega_h == pytest.approx(res.omega_h, rel=1e-7)  # two minres fits, each converged to ~1e-9
    assert set(keyed.flipped) == {"N1", "N2", "N3", "N4", "N5", "O4"}
    # listwise deletion is another correlation matrix, hence another omega_h
    listwise = omega_hierarchical(sm.read_survey(BFI, BFI_INST, nan_policy="fiml"), n_factors=5, missing="listwise")
    assert listwise.n_respondents == 2436 and listwise.n_dropped == 364
    assert abs(listwise.omega_h - res.omega_h) > 1e-4


def test_pairwise_correlation_equals_pandas():
    x = BFI.iloc[:, :25].to_numpy(float)
    np.testing.assert_allclose(pairwise_correlation(x), BFI.iloc[:, :25].corr().to_numpy(), rtol=0, atol=1e-13)


def test_bad_arguments():
    data = _data("example_3")
    with pytest.raises(ParameterError, match="n_factors"):
        omega_hierarchical(data, n_factors=1)
    with pytest.raises(ParameterError, match="n_factors must be at most 12"):
        omega_hierarchical(data, n_factors=13)
    with pytest.raises(ParameterError, match="missing"):
        omega_hierarchical(data, missing="fiml")
    with pytest.warns(sm.ServmodelsWarning, match="two group factors"):
        res = omega_hierarchical(data, n_factors=2)
    assert res.warnings and 0 < res.omega_h < 1


# ----------------------------------------------------------------------------- second-order CFA
MAP = {"chisq": "chisq", "df": "df", "npar": "npar", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "srmr": "srmr",
       "logl": "loglik"}
ROBUST = {"chisq.scaled": "chisq_scaled", "chisq.scaling.factor": "scaling_factor", "cfi.robust": "cfi_robust",
          "rmsea.robust": "rmsea_robust"}


def _second_order_data(case):
    name = REF["second_order"][case]["data"]
    return pd.read_csv(HERE / "data" / name)


@pytest.mark.parametrize("case, estimator", [("sim25_ml", "ML"), ("sim25_mlr", "MLR"), ("example_ml", "ML"),
                                             ("hs_ml", "ML")])
def test_second_order_cfa_and_its_omega_match_lavaan_and_semtools(case, estimator):
    ref = REF["second_order"][case]
    res = omega_higher_order(_second_order_data(case), ref["model"], options=sm.SEMOptions(estimator=estimator))
    fit = res.fit
    for k, ours in MAP.items():
        assert fit.fit[ours] == pytest.approx(ref["fit"][k], rel=1e-6, abs=1e-10 if k == "srmr" else 0), k
    for k, ours in ROBUST.items():
        if k in ref["fit"]:
            assert fit.fit[ours] == pytest.approx(ref["fit"][k], rel=1e-4), k
    for row in ref["parameters"]:
        m = fit.parameters[(fit.parameters.lhs == row["lhs"]) & (fit.parameters.op == row["op"])
                           & (fit.parameters.rhs == row["rhs"])]
        assert len(m) == 1, row
        ours = m.iloc[0]
        assert ours["estimate"] == pytest.approx(row["est"], rel=5e-5, abs=1e-6), row
        assert ours["se"] == pytest.approx(row["se"], rel=1e-4, abs=1e-8), row
        assert ours["std_all"] == pytest.approx(row["std.all"], rel=1e-4, abs=1e-6), row
    omegas = dict(zip(res.table["factor"], res.table["omega"]))
    assert set(omegas) == set(ref["comp_rel"])
    for f, v in ref["comp_rel"].items():
        assert omegas[f] == pytest.approx(v, rel=1e-5), f
    assert res.table.loc[res.table["order"] == 2, "factor"].tolist() == [ref["higher"]]


def test_higher_order_from_the_instrument_and_from_a_fit():
    ref = REF["second_order"]["example_ml"]
    data = sm.read_survey(sm.load_example(), score_sets=["P"])
    res = omega_higher_order(data, scores="P")
    assert dict(zip(res.table["factor"], res.table["omega"]))["service_quality"] == pytest.approx(
        ref["comp_rel"]["service_quality"], rel=1e-5)
    again = omega_higher_order(fit=res.fit, higher="service_quality")
    pd.testing.assert_frame_equal(again.table, res.table)
    with pytest.raises(ModelSpecificationError, match="no higher-order factor"):
        omega_higher_order(fit=cfa(data, scores="P"))
    with pytest.raises(ModelSpecificationError, match="not a higher-order factor"):
        omega_higher_order(fit=res.fit, higher="tangibles")
    with pytest.raises(ParameterError, match="not both"):
        omega_higher_order(data, fit=res.fit)


def test_cli_omega_json(capsys, tmp_path):
    path = tmp_path / "bfi.csv"
    BFI.to_csv(path, index=False)
    raw = {k: v for k, v in json.loads((HERE / "instruments" / "bfi.json").read_text()).items() if k != "reverse"}
    inst = tmp_path / "bfi_raw.json"
    inst.write_text(json.dumps(raw))
    code = main(["omega", str(path), "--instrument", str(inst), "--n-factors", "5", "--method", "schmid-leiman",
                 "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)["schmid_leiman"]
    ref = REF["psych_default"]["bfi_5"]
    assert doc["omega_h"] == pytest.approx(ref["omega_h"], rel=1e-4)
    assert doc["omega_total"] == pytest.approx(ref["omega_total"], rel=1e-4)
    assert [g["factor"] for g in doc["groups"]] == ref["group_rows"]

    code = main(["omega", str(HERE / "data" / "example.csv"), "--scores", "P", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schmid_leiman"]["omega_h"] == pytest.approx(REF["psych_default"]["example_3"]["omega_h"], rel=1e-4)
    assert doc["second_order"]["omega_h"]["service_quality"] == pytest.approx(
        REF["second_order"]["example_ml"]["comp_rel"]["service_quality"], rel=1e-5)
