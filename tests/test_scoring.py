"""Scoring: the seed's published Table 9, closed forms, and algebraic properties."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import servmodels as sm

# Table 9 of Sumino & Sutrischastini (2016), as printed (2 decimals), and the text:
# gaps -0.31 (tangibles), -0.37, -0.34, -0.44 (assurance), -0.32; mean gap -0.36;
# JUMLAH (sum of dimension means) 15.41 (performance) and 17.19 (expectation).
SEED_TABLE9 = {
    "tangibles": (3.13, 3.44, -0.31),
    "reliability": (3.03, 3.40, -0.37),
    "responsiveness": (3.01, 3.34, -0.34),
    "assurance": (3.13, 3.57, -0.44),
    "empathy": (3.11, 3.43, -0.32),
}


def test_seed_table8_transcription_is_consistent():
    t8 = sm.load_seed_table8()
    assert len(t8) == 25
    # printed gaps equal P - E to the printed precision (catches transcription errors)
    np.testing.assert_allclose(t8["perception"] - t8["expectation"], t8["gap"], atol=1e-9)
    inst = sm.get_instrument("servqual25")
    assert [inst.dimension_of(str(i)) for i in t8["item"]] == t8["dimension"].tolist()


def test_summary_mode_reproduces_seed_table9():
    res = sm.score_summary(sm.load_seed_table8(), "servqual25", n_respondents=100)
    for dim, (p, e, g) in SEED_TABLE9.items():
        row = res.dimensions.loc[dim]
        assert round(row["perception"], 2) == p
        assert round(row["expectation"], 2) == e
        assert round(row["gap"], 2) == g
    assert round(res.overall["gap"], 2) == -0.36
    assert round(res.extra["sum_perception"], 2) == 15.41
    assert round(res.extra["sum_expectation"], 2) == 17.19
    assert res.respondents is None and res.n_respondents == 100


def test_summary_mode_accepts_codes_and_rejects_bad_means():
    t8 = sm.load_seed_table8().rename(columns={"perception": "P", "expectation": "E"})
    res = sm.score_summary(t8[["item", "P", "E"]])
    assert res.scores == ("expectation", "perception", "gap")
    bad = t8.copy()
    bad.loc[3, "P"] = 9.0
    with pytest.raises(sm.ValidationError, match="'P'.*row 4"):
        sm.score_summary(bad)
    with pytest.raises(sm.ValidationError, match="items not listed: 25"):
        sm.score_summary(t8.iloc[:24])


def test_example_reproduces_seed_item_means_exactly(example_df):
    res = sm.score(sm.read_survey(example_df))
    t8 = sm.load_seed_table8()
    np.testing.assert_allclose(res.items["perception"], t8["perception"], atol=1e-12)
    np.testing.assert_allclose(res.items["expectation"], t8["expectation"], atol=1e-12)
    for dim, (p, e, g) in SEED_TABLE9.items():
        assert round(res.dimensions.loc[dim, "perception"], 2) == p
        assert round(res.dimensions.loc[dim, "expectation"], 2) == e
        assert round(res.dimensions.loc[dim, "gap"], 2) == g


def test_item_statistics_closed_form(example_df):
    res = sm.score(sm.read_survey(example_df))
    for i in ("1", "7", "25"):
        row = res.items.set_index("item").loc[i]
        gap = example_df[f"P{i}"] - example_df[f"E{i}"]
        assert row["gap"] == pytest.approx(gap.mean(), rel=1e-12)
        assert row["gap_sd"] == pytest.approx(gap.std(ddof=1), rel=1e-12)
        assert row["perception_sd"] == pytest.approx(example_df[f"P{i}"].std(ddof=1), rel=1e-12)
    resp = res.respondents
    expected = example_df[[f"P{i}" for i in range(16, 21)]].mean(axis=1)
    np.testing.assert_allclose(resp["perception_assurance"], expected, rtol=1e-12)
    assert res.dimensions.loc["assurance", "perception_sd"] == pytest.approx(expected.std(ddof=1), rel=1e-12)


def test_weighted_servqual_fixed_weights_closed_form(example_df):
    w = {"tangibles": 10, "reliability": 30, "responsiveness": 20, "assurance": 25, "empathy": 15}
    res = sm.score(sm.read_survey(example_df), weights=w)
    r = res.respondents
    expected = sum(w[d] / 100 * r[f"gap_{d}"] for d in w)
    # atol: gaps that cancel to 0 differ only by rounding order (1e-17)
    np.testing.assert_allclose(r["servqual_weighted"], expected, rtol=1e-12, atol=1e-15)
    assert res.overall["servqual_weighted"] == pytest.approx(expected.mean(), rel=1e-12)


def test_weighted_servqual_from_importance_points(example_df):
    rng = np.random.default_rng(3)
    pts = rng.dirichlet(np.ones(5), size=len(example_df)) * 100
    dims = sm.get_instrument("servqual25").dimension_names
    cols = [f"W_{d}" for d in dims]
    df = example_df.assign(**dict(zip(cols, pts.T)))
    data = sm.read_survey(df, importance=dict(zip(dims, cols)))
    res = sm.score(data)
    gaps = res.respondents[[f"gap_{d}" for d in dims]].to_numpy()
    np.testing.assert_allclose(res.respondents["servqual_weighted"], (gaps * pts / 100).sum(axis=1), rtol=1e-10)
    assert res.weights == {"source": "importance"}


def test_weights_errors(example_df):
    data = sm.read_survey(example_df)
    with pytest.raises(sm.ServmodelsError, match="missing: empathy"):
        sm.score(data, weights={"tangibles": 1, "reliability": 1, "responsiveness": 1, "assurance": 1})
    with pytest.raises(sm.ServmodelsError, match="importance columns"):
        sm.score(data, weights="importance")
    p_only = sm.read_survey(example_df, score_sets=["P"])
    with pytest.raises(sm.ServmodelsError, match="expectation"):
        sm.score(p_only, weights={d: 1 for d in p_only.instrument.dimension_names})


def test_servperf_only_file(example_df):
    p_cols = [c for c in example_df.columns if c.startswith("P")]
    res = sm.score(sm.read_survey(example_df[p_cols], score_sets=["P"]))
    assert res.scores == ("perception",)
    assert res.overall["servperf"] == pytest.approx(example_df[p_cols].to_numpy().mean(), rel=1e-12)
    assert "servqual" not in res.overall


def test_zone_of_tolerance_three_column_format():
    inst = sm.Instrument(name="zot", dimensions={"a": ["1", "2"], "b": ["3"]}, scale=(1, 9), score_sets=("M", "D", "P"))
    df = pd.DataFrame({
        "M1": [3, 4], "M2": [4, 5], "M3": [2, 5],
        "D1": [8, 9], "D2": [7, 8], "D3": [9, 8],
        "P1": [5, 6], "P2": [6, 3], "P3": [7, 4],
    })
    with pytest.warns(sm.SmallSampleWarning, match="only 2 respondent"):
        res = sm.score(sm.validate_survey(df, inst))
    assert res.scores == ("minimum", "desired", "perception", "adequacy", "superiority")
    # MSA = P - M, MSS = P - D (Parasuraman, Zeithaml & Berry 1994)
    assert res.dimensions.loc["a", "adequacy"] == pytest.approx(((5 - 3 + 6 - 4) / 2 + (6 - 4 + 3 - 5) / 2) / 2)
    assert res.dimensions.loc["b", "superiority"] == pytest.approx(((7 - 9) + (4 - 8)) / 2)


# ---------------------------------------------------------------- properties
SMALL = sm.Instrument(name="small", dimensions={"a": ["1", "2", "3"], "b": ["4", "5"]}, scale=(1, 5))


@st.composite
def surveys(draw, min_rows=2, max_rows=40):
    n = draw(st.integers(min_rows, max_rows))
    vals = draw(st.lists(st.integers(1, 5), min_size=n * 10, max_size=n * 10))
    arr = np.array(vals).reshape(n, 10)
    cols = [f"E{i}" for i in range(1, 6)] + [f"P{i}" for i in range(1, 6)]
    return pd.DataFrame(arr, columns=cols)


def _score(df, inst=SMALL, **kw):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm.ServmodelsWarning)
        return sm.score(sm.validate_survey(df, inst), **kw)


@given(surveys())
def test_gap_equals_p_minus_e(df):
    res = _score(df)
    np.testing.assert_allclose(res.items["gap"], res.items["perception"] - res.items["expectation"], atol=1e-12)
    d = res.dimensions
    np.testing.assert_allclose(d["gap"], d["perception"] - d["expectation"], atol=1e-12)
    r = res.respondents
    for dim in ("a", "b", "overall"):
        np.testing.assert_allclose(r[f"gap_{dim}"], r[f"perception_{dim}"] - r[f"expectation_{dim}"], atol=1e-12)


@given(surveys(), st.randoms(use_true_random=False))
def test_invariant_to_respondent_order(df, rnd):
    order = list(range(len(df)))
    rnd.shuffle(order)
    a, b = _score(df), _score(df.iloc[order].reset_index(drop=True))
    pd.testing.assert_frame_equal(a.dimensions, b.dimensions, rtol=1e-12)
    pd.testing.assert_frame_equal(a.items, b.items, rtol=1e-12)
    cols = [c for c in a.respondents.columns if c != "row"]
    np.testing.assert_allclose(a.respondents[cols].to_numpy()[order], b.respondents[cols].to_numpy(), atol=1e-12)


@given(surveys(), st.permutations(["1", "2", "3"]), st.permutations(["4", "5"]))
def test_invariant_to_item_order_within_dimension(df, pa, pb):
    other = sm.Instrument(name="small2", dimensions={"a": pa, "b": pb}, scale=(1, 5))
    a, b = _score(df), _score(df, other)
    pd.testing.assert_frame_equal(a.dimensions, b.dimensions, rtol=1e-12, atol=1e-12)
    cols = [c for c in a.respondents.columns]
    pd.testing.assert_frame_equal(a.respondents[cols], b.respondents[cols], rtol=1e-12, atol=1e-12)


@given(surveys(), st.floats(0.1, 100))
def test_equal_weights_equal_unweighted(df, w):
    res = _score(df, weights={"a": w, "b": w})
    np.testing.assert_allclose(res.respondents["servqual_weighted"], res.respondents["gap_overall"], rtol=1e-12, atol=1e-12)


@given(surveys(min_rows=4), st.integers(1, 3))
def test_chunked_scoring_equals_whole(df, n_chunks):
    whole = _score(df)
    bounds = np.linspace(0, len(df), n_chunks + 1).astype(int)
    parts = [_score(df.iloc[a:b]) for a, b in zip(bounds[:-1], bounds[1:]) if b - a >= 1]
    sizes = [p.n_respondents for p in parts]
    cols = [c for c in whole.respondents.columns if c != "row"]
    stacked = pd.concat([p.respondents[cols] for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(stacked, whole.respondents[cols], rtol=0, atol=0)
    for s in whole.scores:
        merged = sum(p.dimensions[s] * k for p, k in zip(parts, sizes)) / sum(sizes)
        np.testing.assert_allclose(merged, whole.dimensions[s], rtol=1e-12, atol=1e-12)
        merged_items = sum(p.items[s] * k for p, k in zip(parts, sizes)) / sum(sizes)
        np.testing.assert_allclose(merged_items, whole.items[s], rtol=1e-12, atol=1e-12)


def test_result_is_frozen_and_serialisable(example_df):
    import dataclasses
    import json

    res = sm.score(sm.read_survey(example_df))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_respondents = 3
    doc = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert set(doc["dimensions"]["tangibles"]) == {"expectation", "perception", "gap"}
    long = res.to_frame()
    assert {"level", "name", "score", "estimate", "sd"} <= set(long.columns)
    assert "Dimensions" in res.summary()


def test_threaded_item_moments_give_identical_results(example_df, monkeypatch):
    from servmodels import scoring

    data = sm.read_survey(example_df)
    single = sm.score(data)
    monkeypatch.setattr(scoring, "_THREAD_MIN_ROWS", 0)
    threaded = sm.score(data)
    pd.testing.assert_frame_equal(single.items, threaded.items, rtol=0, atol=0)
    pd.testing.assert_frame_equal(single.dimensions, threaded.dimensions, rtol=0, atol=0)


def test_large_scale_uses_wide_integers():
    # a 0-100 "thermometer" scale with 30-item dimensions overflows int8 products and
    # int16 sums; results must still equal the float computation
    rng = np.random.default_rng(0)
    inst = sm.Instrument(name="wide", dimensions={"a": [str(i) for i in range(1, 31)], "b": ["31"]}, scale=(0, 100))
    cols = [f"{s}{i}" for s in "EP" for i in range(1, 32)]
    df = pd.DataFrame(rng.integers(0, 101, size=(50, 62)), columns=cols)
    res = sm.score(sm.validate_survey(df, inst, check_keys=False))  # random items: no key check
    gap_a = (df[[f"P{i}" for i in range(1, 31)]].to_numpy() - df[[f"E{i}" for i in range(1, 31)]].to_numpy()).mean(axis=1)
    assert res.dimensions.loc["a", "gap"] == pytest.approx(gap_a.mean(), rel=1e-12)
    assert res.dimensions.loc["a", "gap_sd"] == pytest.approx(gap_a.std(ddof=1), rel=1e-12)
    np.testing.assert_allclose(res.items["perception_sd"], df[[f"P{i}" for i in range(1, 32)]].std().to_numpy(), rtol=1e-12)
    overall = (gap_a + (df["P31"] - df["E31"]).to_numpy()) / 2
    np.testing.assert_allclose(res.respondents["gap_overall"], overall, rtol=1e-12)
