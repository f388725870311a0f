"""The normal and chi-square functions computed without scipy (servmodels._distributions).

References: R 4.2 ``pchisq``, ``pnorm``, ``qnorm`` and noncentral ``pchisq``, and the
RMSEA interval's noncentralities solved with ``uniroot(tol = 1e-14)``
(tests/reference/R/distributions.R -> tests/reference/distributions.json); and scipy.special,
an implementation independent of R (Cephes/Boost), on a wider grid.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from servmodels._distributions import brent_root, chi2_sf, ncx2_cdf, norm_ppf, norm_sf
from servmodels.sem.fit_measures import rmsea_ci

REF = json.loads((Path(__file__).parent / "reference" / "distributions.json").read_text())


def test_chi2_sf_matches_r_pchisq():
    # closed form (incomplete gamma to double precision): 1e-12 relative, from p = 1 - 1e-8 down to 1e-300
    n = 0
    for case in REF["chisq_upper"]:
        for x, sf in zip(case["x"], case["sf"]):
            assert chi2_sf(x, case["df"]) == pytest.approx(sf, rel=1e-12, abs=0), (case["df"], x)
            n += 1
    assert n == 88


def test_norm_sf_and_ppf_match_r():
    # closed forms: upper tail to 1e-12 relative (down to 1e-300 at z = 37), quantile to 1e-14
    for z, sf in zip(REF["norm"]["z"], REF["norm"]["sf"]):
        assert norm_sf(z) == pytest.approx(sf, rel=1e-12, abs=0), z
    for p, q in zip(REF["qnorm"]["p"], REF["qnorm"]["ppf"]):
        assert norm_ppf(p) == pytest.approx(q, rel=1e-14, abs=0), p
    assert norm_ppf(0.0) == -math.inf and norm_ppf(1.0) == math.inf and math.isnan(norm_ppf(1.5))


def test_ncx2_cdf_matches_r_pchisq_with_ncp():
    # R's pnchisq is accurate to about 1e-12 absolute (its documented error bound), both below ncp = 80
    # (Poisson mixture) and above (its other algorithm): 1e-11 absolute
    for case in REF["ncx2"]:
        for x, cdf in zip(case["x"], case["cdf"]):
            assert ncx2_cdf(x, case["df"], case["ncp"]) == pytest.approx(cdf, rel=0, abs=1e-11), (case["df"], case["ncp"], x)


@pytest.mark.parametrize("df", [0.5, 1, 3, 24, 265, 1000, 5000])
@pytest.mark.parametrize("nc", [0.0, 1e-8, 0.5, 20, 79, 81, 1000, 1e5])
def test_ncx2_cdf_matches_scipy_across_the_range(df, nc):
    # scipy's chndtr (Boost): 1e-13 absolute; and in the lower tail, where a cdf is not limited by the
    # spacing of doubles near 1, 1e-11 relative down to 1e-300
    for q in (1e-10, 1e-3, 0.05, 0.5, 0.95, 0.999, 1 - 1e-10):
        x = float(special.chndtrix(q, df, nc)) if nc > 0 else float(special.chdtri(df, 1 - q))
        ours, theirs = ncx2_cdf(x, df, nc), float(special.chndtr(x, df, nc))
        assert ours == pytest.approx(theirs, rel=0, abs=1e-13)
        if 1e-300 < theirs < 0.5:
            assert ours == pytest.approx(theirs, rel=1e-11, abs=0), (x, ours, theirs)


def test_chi2_sf_matches_scipy_far_into_the_tails():
    # scipy's chdtrc (Cephes igamc) agrees with mpmath to about 1e-14 here: 1e-12 relative
    for df in (1, 7.5, 60, 300, 2500):
        for x in np.concatenate([np.geomspace(1e-6, 50 * df, 40), [df * 200.0]]):
            ref = float(special.chdtrc(df, x))
            if ref > 1e-300:
                assert chi2_sf(float(x), df) == pytest.approx(ref, rel=1e-12, abs=0), (df, x)
    assert chi2_sf(0.0, 3) == 1.0 and math.isnan(chi2_sf(math.nan, 3))


def test_rmsea_interval_matches_r_uniroot():
    # the interval inverts the noncentral cdf; R solved it with uniroot(tol = 1e-14): 1e-10 relative
    for case in REF["rmsea_ci"]:
        lo, hi = rmsea_ci(case["chisq"], case["df"], case["n"], 1)
        assert lo == pytest.approx(case["rmsea_ci_low"], rel=1e-10, abs=1e-12), case
        assert hi == pytest.approx(case["rmsea_ci_high"], rel=1e-10, abs=1e-12), case


def test_brent_root_finds_roots_and_returns_nan_without_a_sign_change():
    assert brent_root(lambda v: v * v - 2.0, 0.0, 2.0) == pytest.approx(math.sqrt(2.0), rel=1e-13)
    assert brent_root(lambda v: math.exp(v) - 5.0, -3.0, 10.0) == pytest.approx(math.log(5.0), rel=1e-13)
    assert brent_root(lambda v: v - 1.0, 1.0, 3.0) == 1.0  # a root at an end
    assert math.isnan(brent_root(lambda v: v * v + 1.0, -1.0, 1.0))
    assert math.isnan(brent_root(lambda v: math.nan, 0.0, 1.0))
