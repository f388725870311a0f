"""Questionnaires other than SERVQUAL: named score sets, reverse-keyed items, the key check.

External references: psych::alpha on the recoded psych::bfi data and the items psych's key check
(negative loadings on the first principal component) names on the raw data
(tests/reference/R/psych_keys.R -> psych_keys.json); pandas for plain means.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.cli import main

# psych::alpha values are written with 15 significant digits: 1e-9 relative
RTOL = 1e-9
BFI_REVERSED = ["A1", "C4", "C5", "E1", "E2", "O2", "O5"]


@pytest.fixture(scope="module")
def keys_ref(reference_dir):
    return json.loads((reference_dir / "psych_keys.json").read_text())


@pytest.fixture(scope="module")
def bfi_path(reference_dir):
    return reference_dir / "data" / "bfi.csv"


@pytest.fixture(scope="module")
def inst_path(reference_dir):
    return reference_dir / "instruments" / "bfi.json"


@pytest.fixture()
def inst_no_reverse(tmp_path, inst_path):
    spec = json.loads(inst_path.read_text())
    spec.pop("reverse")
    path = tmp_path / "bfi_raw.json"
    path.write_text(json.dumps(spec))
    return path


def _check_against_psych(payload, ref):
    assert payload["n_respondents"] == ref["n"] and payload["n_dropped"] == ref["n_dropped"]
    for dim, r in ref["recoded"].items():
        got = payload["dimensions"][dim]
        assert got["alpha"] == pytest.approx(r["raw_alpha"], rel=RTOL)
        assert got["alpha_standardized"] == pytest.approx(r["std_alpha"], rel=RTOL)
        items = got["items"]
        assert [i["item"] for i in items] == r["items"]
        np.testing.assert_allclose([i["corrected_item_total_r"] for i in items], r["r_drop"], rtol=RTOL)
        np.testing.assert_allclose([i["alpha_if_deleted"] for i in items], r["alpha_drop"], rtol=RTOL)
        np.testing.assert_allclose([i["item_total_r"] for i in items], r["raw_r"], rtol=RTOL)
        np.testing.assert_allclose([i["mean"] for i in items], r["mean"], rtol=RTOL)


def test_cli_items_on_raw_data_equals_psych_on_recoded_data(capsys, bfi_path, inst_path, keys_ref):
    # no --scores: the instrument has one score set, "S"; the data are raw (not recoded)
    assert main(["items", str(bfi_path), "--instrument", str(inst_path), "--nan-policy", "omit", "--json"]) == 0
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert payload["scores"] == "S"
    assert payload["reverse_keyed"] == BFI_REVERSED
    _check_against_psych(payload, keys_ref)
    assert payload["total"]["alpha"] == pytest.approx(keys_ref["total"]["raw_alpha"], rel=RTOL)
    assert "reverse-keyed" not in err  # declared items raise no key-check warning


def test_cli_reverse_flag_equals_the_instrument_list(capsys, bfi_path, inst_no_reverse, keys_ref):
    code = main(["items", str(bfi_path), "--instrument", str(inst_no_reverse), "--nan-policy", "omit", "--json",
                 "--reverse", ",".join(BFI_REVERSED)])
    assert code == 0
    _check_against_psych(json.loads(capsys.readouterr().out), keys_ref)


def test_key_check_names_exactly_the_items_psych_names(capsys, bfi_path, inst_no_reverse, keys_ref):
    assert main(["items", str(bfi_path), "--instrument", str(inst_no_reverse), "--nan-policy", "omit", "--json"]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "reverse-keyed" in ln]
    assert len(lines) == 1
    flagged_by_psych = [c for cols in keys_ref["flagged_raw"].values() for c in cols]
    assert sorted(flagged_by_psych) == sorted(BFI_REVERSED)  # psych names the published keys
    named = lines[0].split("probably reverse-keyed:", 1)[1].split("; if they are", 1)[0]
    for dim, cols in keys_ref["flagged_raw"].items():
        if cols:
            assert f"{', '.join(cols)} ({dim})" in named
        else:
            assert dim not in named
    assert "--reverse A1,C4,C5,E1,E2,O2,O5" in lines[0]


def test_python_api_reverse_keyword_and_record(bfi_path, inst_no_reverse, keys_ref):
    res = sm.item_analysis(bfi_path, instrument=str(inst_no_reverse), nan_policy="omit", reverse=BFI_REVERSED)
    _check_against_psych(res.to_dict(), keys_ref)
    assert res.reverse_keyed == tuple(BFI_REVERSED)
    assert "Reverse-keyed items (recoded min + max - x): A1, C4" in res.summary()
    # without the keyword: the warning, and no record
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        raw = sm.item_analysis(bfi_path, instrument=str(inst_no_reverse), nan_policy="omit")
    kinds = [w.category for w in caught]
    assert kinds.count(sm.ReverseKeyWarning) == 1 and "A1 (agreeableness)" in str(caught[0].message)
    assert kinds.count(sm.NegativeReliabilityWarning) == 3  # C, E and O alphas are negative unrecoded
    assert raw.reverse_keyed == () and raw.to_dict()["reverse_keyed"] == []


def test_recode_is_min_plus_max_minus_x_for_scores(bfi_path, inst_path):
    res = sm.score(bfi_path, instrument=str(inst_path), nan_policy="omit")
    raw = pd.read_csv(bfi_path).iloc[:, :25].dropna()
    recoded = raw.copy()
    recoded[BFI_REVERSED] = 7 - recoded[BFI_REVERSED]
    np.testing.assert_allclose(res.items["S"], recoded.mean().to_numpy(), rtol=1e-12)
    agree = recoded[[f"A{i}" for i in range(1, 6)]].mean(axis=1)
    assert res.dimensions.loc["agreeableness", "S"] == pytest.approx(agree.mean(), rel=1e-12)
    assert res.to_dict()["reverse_keyed"] == BFI_REVERSED
    # results keyed by the score set's name: S
    assert set(res.to_dict()["dimensions"]["agreeableness"]) == {"S"}


def test_named_score_set_keys_the_results(bfi_path, inst_path):
    spec = json.loads(inst_path.read_text())
    spec["score_sets"] = {"S": "score"}
    res = sm.score(bfi_path, instrument=spec, nan_policy="omit")
    assert res.scores == ("score",)
    assert "score" in res.dimensions.columns and res.to_dict()["overall"]["score"] == pytest.approx(
        res.dimensions.loc["overall", "score"])
    inst = sm.Instrument.from_dict(spec)
    assert inst.score_sets == ("S",) and inst.set_name("S") == "score" and inst.set_code("score") == "S"
    assert sm.Instrument.from_dict(inst.to_dict()) == inst


def test_every_estimator_records_reverse_keyed_items(bfi_path, inst_path):
    kw = dict(instrument=str(inst_path), nan_policy="omit")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm.ServmodelsWarning)  # e.g. a Heywood case is not the point here
        results = [
            sm.score(bfi_path, **kw),
            sm.item_analysis(bfi_path, **kw),
            sm.validity(bfi_path, n_resamples=0, **kw),
            sm.efa(bfi_path, n_factors=5, **kw),
            sm.cfa(bfi_path, **kw),
        ]
    for res in results:
        assert res.reverse_keyed == tuple(BFI_REVERSED), type(res).__name__
        assert res.to_dict()["reverse_keyed"] == BFI_REVERSED


def test_reverse_declared_in_both_score_sets_of_servqual():
    df = sm.load_example()
    inst = sm.get_instrument("servqual25").with_reverse(["3"])
    data = sm.read_survey(df, inst, check_keys=False)
    np.testing.assert_array_equal(data.responses["P"][:, 2], 5 - df["P3"].to_numpy())
    np.testing.assert_array_equal(data.responses["E"][:, 2], 5 - df["E3"].to_numpy())
    res = sm.score(data)
    assert res.reverse_keyed == ("E3", "P3")


@pytest.mark.parametrize(
    "spec, match",
    [
        ({"dimensions": {"a": [1, 2]}, "reverse": ["9"]}, "reverse names '9'"),
        ({"dimensions": {"a": [1, 2]}, "score_sets": ["S", "gap"]}, "score_sets"),
        ({"dimensions": {"a": [1, 2]}, "score_sets": {"S": "overall"}}, "reserved"),
        ({"dimensions": {"a": [1, 2]}, "score_sets": ["S"], "set_names": {"T": "x"}}, "set_names"),
    ],
)
def test_bad_definitions_are_instrument_errors(spec, match):
    with pytest.raises(sm.InstrumentError, match=match):
        sm.Instrument.from_dict(spec)


def test_several_sets_without_p_need_scores_named(capsys, tmp_path):
    inst = {"name": "two", "dimensions": {"d": [1, 2, 3]}, "score_sets": ["A", "B"], "scale": [1, 5]}
    rng = np.random.default_rng(1)
    base = rng.integers(1, 6, size=(40, 1))
    df = pd.DataFrame(np.clip(base + rng.integers(-1, 2, size=(40, 6)), 1, 5), columns=["A1", "A2", "A3", "B1", "B2", "B3"])
    with pytest.raises(sm.ParameterError, match="score sets A, B; name one"):
        sm.item_analysis(df, instrument=inst)
    res = sm.item_analysis(df, instrument=inst, scores="B")
    x = df[["B1", "B2", "B3"]].to_numpy(float)
    k = 3
    alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert res.dimensions.loc["d", "alpha"] == pytest.approx(alpha, rel=1e-12)
    path = tmp_path / "two.csv"
    df.to_csv(path, index=False)
    ipath = tmp_path / "two.json"
    ipath.write_text(json.dumps(inst))
    assert main(["items", str(path), "--instrument", str(ipath)]) == 2
    assert "--scores" in capsys.readouterr().err


# ----------------------------------------------------------------------------- review findings
def test_cli_cfa_with_model_syntax_recodes_and_records_reverse_keyed_items(capsys, bfi_path, inst_path):
    # the instrument's reverse list reaches user model syntax too; lavaan on recoded data: all loadings positive
    assert main(["cfa", str(bfi_path), "--instrument", str(inst_path), "--model", "agree =~ A1 + A2 + A3 + A4 + A5",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    loads = [p["est"] for p in out["parameters"] if p["op"] == "=~"]
    assert out["reverse_keyed"] == BFI_REVERSED and min(loads) > 0
    raw = pd.read_csv(bfi_path)[[f"A{i}" for i in range(1, 6)]].dropna()
    raw["A1"] = 7 - raw["A1"]
    direct = sm.cfa(raw, "agree =~ A1 + A2 + A3 + A4 + A5")
    np.testing.assert_allclose(loads, direct.parameters.query("op == '=~'")["estimate"], rtol=1e-10)


def test_streamed_scores_record_reverse_keyed_items(capsys, bfi_path, inst_path):
    assert main(["score", str(bfi_path), "--instrument", str(inst_path), "--nan-policy", "omit", "--stream", "--json"]) == 0
    streamed = json.loads(capsys.readouterr().out)
    assert streamed["reverse_keyed"] == BFI_REVERSED
    assert main(["score", str(bfi_path), "--instrument", str(inst_path), "--nan-policy", "omit", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    for d, v in plain["dimensions"].items():
        assert streamed["dimensions"][d]["S"] == pytest.approx(v["S"], rel=1e-12)


@pytest.mark.parametrize("kw, match", [
    ({"outcome": 5}, "outcome must be a column name"),
    ({"respondent_id": ["a"]}, "respondent_id must be a column name"),
    ({"reverse": 5}, "reverse must be item names"),
])
def test_wrong_types_of_reading_keywords_are_parameter_errors(kw, match):
    with pytest.raises(sm.ParameterError, match=match):
        sm.score(sm.example_path(), **kw)


def test_fractional_scale_is_refused():
    with pytest.raises(sm.InstrumentError, match="two integers"):
        sm.score(sm.example_path(), scale=(1.9, 4.9))
    assert sm.get_instrument("servqual25").with_scale(1.0, 5.0).scale == (1, 5)


def test_reverse_by_another_sets_column_and_gap_on_a_one_set_instrument(capsys, bfi_path, inst_path):
    res = sm.item_analysis(sm.example_path(), reverse=["P1"], scores="E", check_keys=False)
    assert res.reverse_keyed == ("E1",)
    assert main(["items", str(bfi_path), "--instrument", str(inst_path), "--nan-policy", "omit", "--scores", "gap"]) == 2
    err = capsys.readouterr().err
    assert "has no score set E, P (its sets: S); gap scores need score sets E and P" in err


def test_key_check_advice_keeps_declared_items_and_flags_wrong_declarations(bfi_path, inst_no_reverse):
    with pytest.warns(sm.ReverseKeyWarning) as rec:
        sm.read_survey(bfi_path, str(inst_no_reverse), nan_policy="omit", reverse=["A1", "C4", "N1"])
    msg = str(rec[0].message)
    # the advice lists the declared items too, so following it does not undo them
    assert "--reverse A1,C4,C5,E1,E2,N1,O2,O5" in msg
    # N1 is not reverse-keyed: recoded, it now correlates negatively with the other neuroticism items
    assert "declared reverse-keyed still correlate negatively" in msg and "N1 (neuroticism)" in msg


def test_report_prints_each_data_warning_once(tmp_path, capsys):
    src = tmp_path / "s.csv"
    sm.load_example().to_csv(src, index=False)
    code = main(["report", str(src), "--reverse", "1", "--outcome", "satisfaction", "--n-resamples", "20", "--format", "md",
                 "--out", str(tmp_path / "r"), "--cv-repeats", "1"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.count("correlate negatively") == 1 and "declared reverse-keyed" in err
