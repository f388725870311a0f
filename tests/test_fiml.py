"""FIML (missing="fiml") against lavaan 0.6-14 ``missing = "ml"`` on psych::bfi, a misfitting
five-factor model (tests/reference/R/lavaan_fiml.R -> tests/reference/lavaan_fiml.json; lavaan with
nlminb rel.tol = 1e-13 and the saturated model's EM at em.h1.tol = 1e-12).

lavaan's estimates are Newton-polished on lavaan's own FIML objective (tests/reference/R/polish.R:
nlminb stops ~1e-5 short even at rel.tol = 1e-13), so the programs agree to ~1e-9 or better.
Tolerances, per statistic:
* chi-square, log-likelihoods, fmin, CFI/TLI/RMSEA, SRMR, the scaled (MLR) and robust statistics
  (lavaan's FIML-corrected statistic, Zhang & Savalei 2022): 1e-6 relative (agreement <= 3e-7;
  the baseline's scaling factor depends on the EM estimates, em.h1.tol = 1e-12);
* estimates, standard errors, std_all: 1e-6 relative (+1e-9 absolute);
* modification indices, EPCs, sepc.all: 1e-6 relative (+1e-9 absolute); residuals 1e-6 absolute.
And internal identities that need no reference: the analytic observed information equals central
differences of the analytic gradient, EM on the patterns' sufficient statistics reaches the stationary
point of the observed-data likelihood, FIML on complete data is ML.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main
from servmodels.sem import fiml as F

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "lavaan_fiml.json").read_text())
BFI = pd.read_csv(HERE / "reference" / "data" / "bfi.csv")
MODEL = REF["model"]
MAP = {
    "npar": "npar", "fmin": "fmin", "chisq": "chisq", "df": "df", "pvalue": "pvalue", "baseline.chisq": "baseline_chisq",
    "baseline.df": "baseline_df", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "rmsea.ci.lower": "rmsea_ci_low",
    "rmsea.ci.upper": "rmsea_ci_high", "srmr": "srmr", "logl": "loglik", "unrestricted.logl": "unrestricted_loglik",
    "aic": "aic", "bic": "bic", "chisq.scaled": "chisq_scaled", "pvalue.scaled": "pvalue_scaled",
    "chisq.scaling.factor": "scaling_factor", "baseline.chisq.scaled": "baseline_chisq_scaled",
    "baseline.chisq.scaling.factor": "baseline_scaling_factor", "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled",
    "rmsea.scaled": "rmsea_scaled", "cfi.robust": "cfi_robust", "tli.robust": "tli_robust", "rmsea.robust": "rmsea_robust",
}
TOL: dict[str, float] = {}
CASES = {
    "ml": dict(estimator="ML"),
    "mlr": dict(estimator="MLR"),
    "mg_ml": dict(estimator="ML", group="gender"),
    "mg_mlr": dict(estimator="MLR", group="gender"),
    "mg400_ml": dict(estimator="ML", group="gender", rows=400),
    "mg400_mlr": dict(estimator="MLR", group="gender", rows=400),
    "mg400_scalar_mlr": dict(estimator="MLR", group="gender", rows=400, group_equal=("loadings", "intercepts")),
}
_FITS: dict[str, sm.CFAResult] = {}


def fitted(name: str) -> sm.CFAResult:
    if name not in _FITS:
        kw = dict(CASES[name])
        rows = kw.pop("rows", None)
        data = BFI.iloc[:rows] if rows else BFI
        _FITS[name] = sm.cfa(data, MODEL, missing="fiml", **kw)
    return _FITS[name]


def match(frame: pd.DataFrame, row: dict, group: str | None = None) -> pd.Series:
    m = frame[(frame.op == row["op"]) & (
        ((frame.lhs == row["lhs"]) & (frame.rhs == row["rhs"])) | ((frame.lhs == row["rhs"]) & (frame.rhs == row["lhs"]))
    )]
    if group is not None:
        m = m[m.group == group]
    assert len(m) == 1, row
    return m.iloc[0]


def group_of(ref: dict, row: dict) -> str | None:
    if "group" not in row:
        return None
    return str(ref["group_labels"][int(row["group"]) - 1])


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(name):
    res, ref = fitted(name), REF[name]
    assert res.converged and res.n_dropped == 0 and res.n_respondents == int(np.sum(ref["nobs"]))
    for key, value in ref["fit"].items():
        assert res.fit[MAP[key]] == pytest.approx(value, rel=TOL.get(key, 1e-6), abs=1e-12), key
    assert res.fit["cfi_robust"] < 0.95 and res.fit["rmsea_robust"] > 0.05  # misfitting: no reference at a bound


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_and_standard_errors_match_lavaan(name):
    res, ref = fitted(name), REF[name]
    for row in ref["parameters"]:
        ours = match(res.parameters, row, group_of(ref, row))
        assert ours["estimate"] == pytest.approx(row["est"], rel=1e-6, abs=1e-9), row
        assert ours["se"] == pytest.approx(row["se"], rel=1e-6, abs=1e-9), row
        assert ours["std_all"] == pytest.approx(row["std.all"], rel=1e-6, abs=1e-9), row


DIAG = [name for name in CASES if "modindices" in REF.get(name, {})]


@pytest.mark.parametrize("name", DIAG)
def test_modification_indices_match_lavaan(name):
    res, ref = fitted(name), REF[name]
    mi = res.modification_indices
    assert len(mi) == len(ref["modindices"])
    for row in ref["modindices"]:
        ours = match(mi, row, group_of(ref, row))
        assert ours["mi"] == pytest.approx(row["mi"], rel=1e-6, abs=1e-9), row
        assert ours["epc"] == pytest.approx(row["epc"], rel=1e-6, abs=1e-9), row
        assert ours["sepc_all"] == pytest.approx(row["sepc.all"], rel=1e-6, abs=1e-9), row


@pytest.mark.parametrize("name", DIAG)
def test_residuals_match_lavaan(name):
    res, ref = fitted(name), REF[name]
    for kind in ("raw", "normalized", "standardized"):
        block = ref["residuals"][kind]  # one group: a list; several: keyed by group label
        for g, theirs in enumerate([block[k] for k in ref["group_labels"]] if isinstance(block, dict) else block):
            expected = np.array(theirs["cov"], dtype=float)  # null (NA) -> nan
            ours = res.residuals[kind][g].to_numpy()
            np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6, equal_nan=True, err_msg=f"{kind} group {g}")
            # the mean residuals (EM means - implied means): not zero under FIML
            np.testing.assert_allclose(res.residuals["mean"][g][kind].to_numpy(), np.array(theirs["mean"], dtype=float),
                                       rtol=0, atol=1e-6, err_msg=f"{kind} means group {g}")
    assert np.abs(res.residuals["mean"][0]["standardized"]).max() > 2


def test_cli_reports_robust_fit_under_fiml(capsys, tmp_path):
    model = tmp_path / "bfi.lav"
    model.write_text(MODEL + "\n")
    code = main(["cfa", str(HERE / "reference" / "data" / "bfi.csv"), "--model-file", str(model), "--missing", "fiml",
                 "--estimator", "MLR", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    fit = json.loads(out)["fit"]
    for key in ("cfi.robust", "tli.robust", "rmsea.robust", "chisq.scaled"):
        assert fit[MAP[key]] == pytest.approx(REF["mlr"]["fit"][key], rel=1e-6), key


# ----------------------------------------------------------------------------- identities
def _estimator(data: pd.DataFrame, model: str, robust: bool = False):
    from servmodels.sem.estimator import SampleData
    from servmodels.sem.options import SEMOptions
    from servmodels.sem.specification import build_spec

    spec = build_spec(model, meanstructure=True)
    est = (F.FIMLRobust if robust else F.FIML)(SEMOptions(missing="fiml"))
    est.prepare(spec, SampleData(blocks=[data[spec.ov].to_numpy(float)]))
    return est


def test_analytic_observed_information_equals_differences_of_the_gradient():
    rows = BFI.iloc[:600]
    est = _estimator(rows, "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5")
    x = est.start() * 1.05  # away from the optimum: the gradient terms of the Hessian count
    H = est.evaluate(x, info="observed").info
    num = F.numeric_hessian(lambda z: est.evaluate(z, info=False).grad, x)
    np.testing.assert_allclose(H, num, rtol=1e-5, atol=1e-7 * np.abs(H).max())


def test_em_reaches_the_stationary_point_of_the_observed_likelihood():
    mg = F.make_group(BFI[[f"N{i}" for i in range(1, 6)] + [f"O{i}" for i in range(1, 6)]].to_numpy(float))
    mu, sigma, ll, _ = F.em_saturated(mg)
    t = F.pattern_terms(mg, mu, sigma, level=1)
    assert np.abs(F.vech_gradient(t)).max() < 1e-10
    assert ll == pytest.approx(F.loglik(mg, mu, sigma), rel=1e-14)


def test_second_order_model_under_fiml_uses_the_gradient_differences():
    # a B matrix: the observed information comes from differences of the analytic gradient
    rows = BFI.iloc[:800]
    model = "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\nE =~ E1 + E2 + E3 + E4 + E5\ng =~ A + C + E"
    res = sm.cfa(rows, model, missing="fiml")
    same = sm.cfa(rows, "A =~ A1 + A2 + A3 + A4 + A5\nC =~ C1 + C2 + C3 + C4 + C5\nE =~ E1 + E2 + E3 + E4 + E5",
                  missing="fiml")
    # three first-order factors under one second-order factor: just identified, same fit
    assert res.converged and res.fit["chisq"] == pytest.approx(same.fit["chisq"], rel=1e-8)
    assert np.isfinite(res.parameters["se"]).all()


def test_fiml_on_complete_data_is_ml():
    rows = BFI[[f"C{i}" for i in range(1, 6)] + [f"E{i}" for i in range(1, 6)]].dropna().iloc[:500]
    model = "C =~ C1 + C2 + C3 + C4 + C5\nE =~ E1 + E2 + E3 + E4 + E5"
    a = sm.cfa(rows, model, missing="fiml")
    b = sm.cfa(rows, model, meanstructure=True)
    assert a.fit["chisq"] == pytest.approx(b.fit["chisq"], rel=1e-9)
    np.testing.assert_allclose(a.parameters["estimate"], b.parameters["estimate"], rtol=1e-7, atol=1e-9)
