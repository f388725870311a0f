"""Modification indices and residuals of WLSMV fits (ordered items, delta parameterization) against
lavaan 0.6-14 (tests/reference/R/lavaan_wlsmv_diag.R -> tests/reference/lavaan_wlsmv_diag.json; lavaan's
estimates Newton-polished on its own DWLS objective, tests/reference/R/polish.R).

Data: Holzinger & Swineford cut into three categories (public), one group, two schools, and two schools
with equal thresholds and loadings (threshold residuals not zero; marker loadings and intercepts become
testable); a simulated misfitting 8-item file.

Tolerances (optimiser output): modification indices and EPCs 1e-4 relative (+1e-6 absolute), sepc.all
1e-4 relative; residuals 1e-5 absolute (they are of order 0.01-5).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "lavaan_wlsmv_diag.json").read_text())
HSO = pd.read_csv(HERE / "reference" / "data" / "hs_ordinal.csv")
SIM = pd.read_csv(HERE / "reference" / "data" / "ordinal_mg.csv")
CASES = {
    "hs": lambda: sm.cfa(HSO.drop(columns="school"), REF["hs_model"], estimator="WLSMV"),
    "hs_mg": lambda: sm.cfa(HSO, REF["hs_model"], estimator="WLSMV", group="school"),
    "hs_mg_metric": lambda: sm.cfa(HSO, REF["hs_model"], estimator="WLSMV", group="school",
                                   group_equal=("thresholds", "loadings")),
    "sim": lambda: sm.cfa(SIM[[f"y{i}" for i in range(1, 9)]], REF["sim_model"], estimator="WLSMV"),
}
_FITS: dict[str, sm.CFAResult] = {}


def fitted(name: str) -> sm.CFAResult:
    if name not in _FITS:
        _FITS[name] = CASES[name]()
    return _FITS[name]


def _groups(ref: dict, block: dict | list) -> list:
    """lavaan writes one group as a list and several as a dict keyed by group label."""
    return [block[g] for g in ref["group_labels"]] if isinstance(block, dict) else list(block)


@pytest.mark.parametrize("name", list(CASES))
def test_modification_indices_match_lavaan(name):
    res, ref = fitted(name), REF[name]
    assert res.fit["chisq"] == pytest.approx(ref["chisq"], rel=1e-6)
    ours = res.modification_indices.copy()
    theirs = pd.DataFrame(ref["modindices"])
    key = ["lhs", "op", "rhs"]
    if "group" in theirs:
        theirs["group"] = [str(ref["group_labels"][int(g) - 1]) for g in theirs["group"]]
        ours["group"] = ours["group"].astype(str)
        key.append("group")
    both = theirs.merge(ours, on=key, how="outer", suffixes=("_lavaan", ""), indicator=True)
    assert (both["_merge"] == "both").all(), both.loc[both["_merge"] != "both", key + ["_merge"]]
    assert len(ours) == len(theirs) and ours["mi"].max() > 5  # misfitting: some large indices
    np.testing.assert_allclose(both["mi"], both["mi_lavaan"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(both["epc"], both["epc_lavaan"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(both["sepc_all"], both["sepc.all"], rtol=1e-4, atol=1e-6)


def test_equal_thresholds_make_markers_and_intercepts_testable():
    mi = fitted("hs_mg_metric").modification_indices
    assert {"~1"} <= set(mi["op"]) and len(mi[(mi.lhs == "visual") & (mi.rhs == "x1")]) == 2
    assert "~1" not in set(fitted("hs_mg").modification_indices["op"])  # configural: not identified, dropped


@pytest.mark.parametrize("name", list(CASES))
def test_residuals_match_lavaan(name):
    res, ref = fitted(name), REF[name]
    for kind in ("raw", "normalized", "standardized"):
        for g, theirs in enumerate(_groups(ref, ref["residuals"][kind])):
            np.testing.assert_allclose(res.residuals[kind][g].to_numpy(), np.array(theirs["cov"], dtype=float),
                                       atol=1e-5, err_msg=f"{kind} group {g}")
            th = res.residuals["thresholds"][g]
            assert list(th.index) == theirs["th_names"]
            np.testing.assert_allclose(th[kind].to_numpy(), np.array(theirs["th"], dtype=float), atol=1e-5,
                                       err_msg=f"{kind} thresholds group {g}")
    assert np.abs(res.residuals["standardized"][0].to_numpy()).max() > 2  # misfit shows


def test_threshold_residuals_are_not_all_zero_with_equal_thresholds():
    th = fitted("hs_mg_metric").residuals["thresholds"]
    assert all(np.abs(t["standardized"]).max() > 2 for t in th)


def test_cli_prints_and_writes_modification_indices(capsys, tmp_path):
    model = tmp_path / "hs.lav"
    model.write_text(REF["hs_model"] + "\n")
    data = tmp_path / "hs.csv"
    HSO.drop(columns="school").to_csv(data, index=False)
    assert main(["cfa", str(data), "--model-file", str(model), "--estimator", "WLSMV", "--modindices", "5",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    top = pd.DataFrame(REF["hs"]["modindices"]).sort_values("mi", ascending=False).head(5)
    assert [r["mi"] for r in doc["modification_indices"]] == pytest.approx(list(top["mi"]), rel=1e-4)
    assert main(["cfa", str(data), "--model-file", str(model), "--estimator", "WLSMV", "--modindices", "3"]) == 0
    text = capsys.readouterr().out
    assert "Modification indices" in text and "visual =~ x9" in text


def test_cli_residuals_json_names_each_group(capsys, tmp_path):
    model = tmp_path / "hs.lav"
    model.write_text(REF["hs_model"] + "\n")
    data = tmp_path / "hs.csv"
    HSO.to_csv(data, index=False)
    assert main(["cfa", str(data), "--model-file", str(model), "--estimator", "WLSMV", "--group", "school",
                 "--residuals", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    ref = REF["hs_mg"]
    std = doc["residuals"]["standardized"]
    assert [b["group"] for b in std] == list(ref["group_labels"])
    for block in std:
        theirs = np.array(ref["residuals"]["standardized"][block["group"]]["cov"], dtype=float)
        ours = pd.DataFrame(block["rows"]).set_index("variable").to_numpy(dtype=float)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    assert [b["group"] for b in doc["residuals"]["thresholds"]] == list(ref["group_labels"])
