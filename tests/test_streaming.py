"""Streaming scoring: merged moments equal one-pass moments for any chunking; streamed results
equal in-memory results on the same file; bad rows deep in a file keep absolute row numbers."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import servmodels as sm
from servmodels.scoring import score_moments
from servmodels.streaming import dask_score, stream_score

INST = sm.get_instrument("servqual25").with_scale(1, 5)


@pytest.fixture(scope="module")
def survey_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    df = sm.simulate_servqual(3000, instrument=INST, rng=21)
    paths = {}
    for ext in ("csv", "parquet", "sav"):
        p = d / f"s.{ext}"
        if ext == "csv":
            df.to_csv(p, index=False)
        elif ext == "parquet":
            df.to_parquet(p)
        else:
            import pyreadstat

            pyreadstat.write_sav(df, str(p))
        paths[ext] = p
    return df, paths


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=1, max_size=6))
def test_merged_moments_equal_one_pass_for_any_chunking(cuts):
    df = sm.simulate_servqual(120, rng=3)
    data = sm.read_survey(df)
    bounds = sorted({0, 120, *[min(c * 2, 119) for c in cuts]})
    parts = [score_moments(data.take(np.arange(a, b)), cross=True) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    whole = score_moments(data, cross=True)
    for k in whole.items:
        np.testing.assert_array_equal(merged.items[k][0], whole.items[k][0])
        np.testing.assert_array_equal(merged.items[k][1], whole.items[k][1])
    assert merged.dims == whole.dims
    pd.testing.assert_frame_equal(merged.to_result().dimensions, sm.score(data).dimensions, rtol=0, atol=0)
    np.testing.assert_array_equal(merged.cross["P"][0], whole.cross["P"][0])


@pytest.mark.parametrize("ext", ["csv", "parquet", "sav"])
@pytest.mark.parametrize("chunk", [499, 3000, 10_000])
def test_streamed_equals_in_memory(survey_files, ext, chunk, tmp_path):
    df, paths = survey_files
    full = sm.score(sm.read_survey(paths[ext], INST))
    out = tmp_path / "scores.parquet"
    res, mom = stream_score(paths[ext], INST, chunk_rows=chunk, out=out, cross=True)
    pd.testing.assert_frame_equal(res.dimensions, full.dimensions, rtol=0, atol=0)
    pd.testing.assert_frame_equal(res.items, full.items, rtol=0, atol=0)
    written = pd.read_parquet(out)
    assert len(written) == 3000
    np.testing.assert_allclose(written["gap_overall"], full.respondents["gap_overall"], rtol=0, atol=0)
    cov, _ = mom.covariance("P")
    np.testing.assert_allclose(cov, np.cov(df[list(INST.columns("P"))].to_numpy(float), rowvar=False), rtol=1e-12)


def test_one_row_chunks(tmp_path):
    df = sm.simulate_servqual(60, instrument=INST, rng=4)
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    res, _ = stream_score(path, INST, chunk_rows=1)
    pd.testing.assert_frame_equal(res.dimensions, sm.score(sm.read_survey(df, INST)).dimensions, rtol=0, atol=0)


def test_cfa_from_streamed_moments_equals_raw_cfa(survey_files):
    df, paths = survey_files
    _, mom = stream_score(paths["parquet"], INST, chunk_rows=700, cross=True)
    cov, _ = mom.covariance("P")
    cols = list(INST.columns("P"))
    raw = sm.cfa(sm.read_survey(df, INST), scores="P")
    streamed = sm.cfa(model=sm.instrument_model(INST, scores="P"), sample_cov=pd.DataFrame(cov, index=cols, columns=cols), n_obs=mom.n)
    assert streamed.fit["chisq"] == pytest.approx(raw.fit["chisq"], rel=1e-8)


def test_bad_rows_deep_in_a_file_keep_absolute_row_numbers(survey_files, tmp_path):
    df, _ = survey_files
    bad = df.copy()
    bad["P3"] = bad["P3"].astype(object)
    bad.loc[2716, "P3"] = "banyak"
    bad.loc[1999, "E4"] = 0
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(sm.ValidationError) as ei:
        stream_score(path, INST, chunk_rows=500)
    msg = str(ei.value)
    assert "column 'P3': non-numeric text ('banyak') at row 2717" in msg
    assert "column 'E4'" in msg and "row 2000" in msg


def test_warnings_are_about_the_whole_file(survey_files, tmp_path):
    df, _ = survey_files
    const = df.copy()
    const["P9"] = 3
    path = tmp_path / "c.parquet"
    const.to_parquet(path)
    with pytest.warns(sm.ConstantItemWarning, match="P9"):
        res, _ = stream_score(path, INST, chunk_rows=1000)
    assert any("P9" in w for w in res.warnings)


def test_dask_backend_equals_single_machine(survey_files):
    import dask.dataframe as dd

    df, paths = survey_files
    full = sm.score(sm.read_survey(df, INST))
    res, _ = dask_score(dd.from_pandas(df, npartitions=5), INST)
    pd.testing.assert_frame_equal(res.dimensions, full.dimensions, rtol=0, atol=0)
    res2, _ = dask_score(str(paths["parquet"]), INST, scheduler="local")
    pd.testing.assert_frame_equal(res2.dimensions, full.dimensions, rtol=0, atol=0)


def test_csv_with_quoted_line_breaks_streams_correctly(tmp_path):
    df = sm.simulate_servqual(300, instrument=INST, rng=8)
    df["comment"] = ["baik\nsekali" if i % 7 == 0 else "ok" for i in range(len(df))]
    path = tmp_path / "quoted.csv"
    df.to_csv(path, index=False)
    res, _ = stream_score(path, INST, chunk_rows=64)
    pd.testing.assert_frame_equal(res.dimensions, sm.score(sm.read_survey(df, INST)).dimensions, rtol=0, atol=0)
