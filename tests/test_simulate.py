import numpy as np
import pandas as pd
import pytest

import servmodels as sm
from servmodels.datasets import SEED_TABLE2_VILLAGES


def test_same_seed_same_survey_and_generator_accepted():
    a = sm.simulate_servqual(120, rng=5)
    b = sm.simulate_servqual(120, rng=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(sm.simulate_servqual(120, rng=6))


def test_bundled_example_is_reproducible_from_the_simulator():
    regenerated = sm.simulate_servqual(100, rng=2016, item_means=sm.load_seed_table8(), exact_means=True)
    pd.testing.assert_frame_equal(regenerated, sm.load_example(), check_dtype=False)


def test_example_matches_seed_tables_2_3_and_8():
    df = sm.load_example()
    assert df["village"].value_counts().to_dict() == SEED_TABLE2_VILLAGES  # Table 2
    assert (df["gender"] == "male").sum() == 82  # Table 3: 82 men, 18 women
    t8 = sm.load_seed_table8()
    for _, row in t8.iterrows():
        assert df[f"P{row['item']}"].mean() == pytest.approx(row["perception"], abs=1e-12)
        assert df[f"E{row['item']}"].mean() == pytest.approx(row["expectation"], abs=1e-12)


def test_simulated_structure_is_recovered():
    # loadings 0.7 within dimension, factor correlation 0.5: within-dimension item
    # correlations exceed between-dimension ones, and satisfaction tracks perception
    df = sm.simulate_servqual(4000, rng=11)
    p = df[[f"P{i}" for i in range(1, 26)]].corr().to_numpy()
    dim = np.repeat(np.arange(5), 5)
    same = dim[:, None] == dim[None, :]
    off = ~np.eye(25, dtype=bool)
    assert p[same & off].mean() > p[~same].mean() + 0.1
    sat_r = np.corrcoef(df["satisfaction"], df[[f"P{i}" for i in range(1, 26)]].mean(axis=1))[0, 1]
    assert sat_r > 0.3


def test_simulator_input_errors():
    with pytest.raises(sm.ServmodelsError):
        sm.simulate_servqual(0)
    with pytest.raises(sm.ServmodelsError):
        sm.simulate_servqual(10, loading=1.5)
