"""Item analysis against psych::alpha (R) and closed forms."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

import servmodels as sm

# psych::alpha values are written with 15 significant digits: compare at 1e-9 relative.
RTOL_PSYCH = 1e-9

LAYOUT = {"example": ("servqual25", (1, 4)), "sim22": ("servqual22", (1, 5))}


def _data(ref_data, case, sets):
    inst, scale = LAYOUT[case]
    if case == "sim22" and "P" in sets:
        # sim22's P3 is reverse-keyed and left so on purpose: the key check must name it (and only it)
        with pytest.warns(sm.ReverseKeyWarning, match=r"probably reverse-keyed: P3 \(tangibles\); ") as rec:
            data = sm.read_survey(ref_data(case), inst, scale=scale, score_sets=sets)
        assert len(rec) == 1
        return data
    return sm.read_survey(ref_data(case), inst, scale=scale, score_sets=sets)


def _analyse(data, scores):
    # sim22 has a reverse-keyed item left unreversed, so one alpha is negative there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sm.NegativeReliabilityWarning)
        return sm.item_analysis(data, scores=scores)


@pytest.mark.parametrize("case", ["example", "sim22"])
@pytest.mark.parametrize("scores", ["P", "E", "gap"])
def test_item_analysis_matches_psych_alpha(psych_ref, ref_data, case, scores):
    data = _data(ref_data, case, ["E", "P"])
    res = _analyse(data, scores)
    ref = psych_ref["cases"][case]["sets"][scores]
    for dim, r in ref["dimensions"].items():
        row = res.dimensions.loc[dim]
        assert row["alpha"] == pytest.approx(r["raw_alpha"], rel=RTOL_PSYCH)
        assert row["alpha_standardized"] == pytest.approx(r["std_alpha"], rel=RTOL_PSYCH)
        assert row["average_r"] == pytest.approx(r["average_r"], rel=RTOL_PSYCH)
        assert row["alpha_ci_low"] == pytest.approx(r["feldt_low"], rel=RTOL_PSYCH)
        assert row["alpha_ci_high"] == pytest.approx(r["feldt_high"], rel=RTOL_PSYCH)
        items = res.items[res.items["dimension"] == dim]
        assert items["item"].tolist() == r["items"]
        np.testing.assert_allclose(items["item_total_r"], r["raw_r"], rtol=RTOL_PSYCH)
        np.testing.assert_allclose(items["corrected_item_total_r"], r["r_drop"], rtol=RTOL_PSYCH)
        np.testing.assert_allclose(items["alpha_if_deleted"], r["alpha_drop"], rtol=RTOL_PSYCH)
        np.testing.assert_allclose(items["alpha_if_deleted_standardized"], r["std_alpha_drop"], rtol=RTOL_PSYCH)
        np.testing.assert_allclose(items["mean"], r["mean"], rtol=RTOL_PSYCH)
        np.testing.assert_allclose(items["sd"], r["sd"], rtol=RTOL_PSYCH)
    tot = ref["total"]
    assert res.total.alpha == pytest.approx(tot["raw_alpha"], rel=RTOL_PSYCH)
    assert res.total.ci_low == pytest.approx(tot["feldt_low"], rel=RTOL_PSYCH)
    np.testing.assert_allclose(res.items["item_scale_r"], tot["raw_r"], rtol=RTOL_PSYCH)
    np.testing.assert_allclose(res.items["corrected_item_scale_r"], tot["r_drop"], rtol=RTOL_PSYCH)


def test_critical_r_matches_seed_and_r(psych_ref):
    # the seed's "r tabel" for n = 100 is 0.1966 (Tables 4-7); R: qt(.975, 98) / sqrt(98 + qt^2)
    assert round(sm.critical_r(100), 4) == 0.1966
    assert sm.critical_r(100) == pytest.approx(psych_ref["cases"]["example"]["r_critical"], rel=1e-12)
    assert sm.critical_r(250) == pytest.approx(psych_ref["cases"]["sim22"]["r_critical"], rel=1e-12)


def test_critical_r_is_the_significance_boundary():
    # closed form: at r = r_crit the two-sided p-value of the t test equals 0.05
    for n in (10, 37, 100, 1000):
        r = sm.critical_r(n)
        t = r * np.sqrt((n - 2) / (1 - r * r))
        assert 2 * stats.t.sf(t, n - 2) == pytest.approx(0.05, rel=1e-9)


def test_item_total_p_value_closed_form(ref_data):
    data = _data(ref_data, "sim22", ["P"])
    res = _analyse(data, "P")
    x = data.responses["P"]
    # p-value equals scipy's Pearson test on the item and its dimension total
    inst = sm.get_instrument("servqual22")
    pos = {i: j for j, i in enumerate(inst.items)}
    for _, row in res.items.iterrows():
        dim_cols = [pos[i] for i in inst.dimensions[row["dimension"]]]
        j = int(row["item"][1:])
        total = x[:, dim_cols].sum(axis=1)
        expected = stats.pearsonr(x[:, pos[str(j)]], total)
        assert row["item_total_r"] == pytest.approx(expected.statistic, rel=1e-10)
        assert row["item_total_p_value"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
        assert row["valid"] == (row["item_total_r"] > res.r_critical)


def test_reversed_item_is_flagged(ref_data):
    with pytest.warns(sm.NegativeReliabilityWarning, match="tangibles"):
        res = sm.item_analysis(_data(ref_data, "sim22", ["P"]), scores="P")
    p3 = res.items.set_index("item").loc["P3"]
    assert p3["corrected_item_total_r"] < 0
    assert p3["alpha_if_deleted"] > res.dimensions.loc["tangibles", "alpha"]


def test_cronbach_alpha_small_closed_form():
    # hand computation: item variances 1.3, 1.3, 0.7; total variance 7.8; k = 3
    x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 3, 4], [2, 1, 2]])
    var_items = x.var(axis=0, ddof=1).sum()
    var_total = x.sum(axis=1).var(ddof=1)
    expected = 3 / 2 * (1 - var_items / var_total)
    assert sm.cronbach_alpha(x).alpha == pytest.approx(expected, rel=1e-12)


def test_negative_alpha_warns():
    x = np.array([[1, 4], [2, 3], [3, 2], [4, 1], [2, 2]])
    with pytest.warns(sm.ReverseKeyWarning, match=r"P1, P2 \(d\)"):  # r = -0.83: a two-item dimension is flagged
        data = sm.validate_survey(pd.DataFrame(x, columns=["P1", "P2"]), {"name": "t", "dimensions": {"d": [1, 2]}, "score_sets": ["P"], "scale": [1, 4]})
    with pytest.warns(sm.NegativeReliabilityWarning, match="negative"):
        res = sm.item_analysis(data, scores="P")
    assert res.dimensions.loc["d", "alpha"] < 0
    assert any("negative" in w for w in res.warnings)


def test_alpha_input_errors():
    with pytest.raises(sm.ServmodelsError):
        sm.cronbach_alpha(np.ones((5, 1)))
    with pytest.raises(sm.ServmodelsError):
        sm.cronbach_alpha(np.array([[1, np.nan], [2, 3], [3, 3]]))


likert = arrays(np.int64, st.tuples(st.integers(6, 30), st.integers(2, 6)), elements=st.integers(1, 5))


@given(likert, st.randoms(use_true_random=False), st.integers(-3, 3))
def test_alpha_invariances(x, rnd, shift):
    if (x.std(axis=0) == 0).any() or x.sum(axis=1).std() == 0:
        return
    a = sm.cronbach_alpha(x)
    perm_rows = list(range(x.shape[0]))
    rnd.shuffle(perm_rows)
    perm_cols = list(range(x.shape[1]))
    rnd.shuffle(perm_cols)
    b = sm.cronbach_alpha(x[perm_rows][:, perm_cols] + shift)
    for field in ("alpha", "alpha_standardized", "ci_low", "ci_high"):
        assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-9, abs=1e-12)
    # affine rescaling of every item by the same factor leaves raw alpha unchanged
    c = sm.cronbach_alpha(x * 3.0 - 1)
    assert c.alpha == pytest.approx(a.alpha, rel=1e-9, abs=1e-12)
