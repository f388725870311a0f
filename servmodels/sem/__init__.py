"""Structural equation engine: confirmatory factor analysis with lavaan's conventions.

Laid out one concern per module, as lavaan splits its R code:

=================  ==========================================================
``syntax``         lavaan model syntax -> statements (``lavParseModelString``)
``specification``  parameter table and model matrices (``lavParTable``)
``start``          starting values (``lav_start``)
``moments``        sample means and covariances, causes of singularity (``lav_samplestats``)
``options``        :class:`SEMOptions`, the one options object
``estimator``      the estimator interface and its registry
``ml``             normal-theory ML: objective, gradient, information, test
``mlr``            robust ML: sandwich SEs, Yuan-Bentler scaled test
``cluster``        cluster-robust SEs and scaled test (``cluster=``)
``fiml``           full-information ML for missing answers
``wlsmv``          DWLS on polychoric correlations for ordinal items
``fit_measures``   one function for every chi-square based index
``standardize``    std.lv / std.all solutions
``residuals``      raw, normalized, standardized, correlation residuals
``modification``   modification indices and EPCs
``result``         :class:`CFAResult`, built the same way for every estimator
``api``            :func:`cfa` and :func:`instrument_model`
``invariance``     :func:`measurement_invariance`, :func:`ep_structure_test`
``score_test``     score tests of equality constraints (``lavTestScore``)
``latent_gap``     :func:`latent_gap`: E and P factors jointly, latent gaps
=================  ==========================================================

An estimator is looked up by ``(estimator, missing)`` in the registry
(:func:`registered` lists them); adding one is one module with a registered
subclass of :class:`Estimator`.  The built-in estimator modules are imported on
their first look-up (``estimator._BUILTIN``), so an ML fit does not load the others.
"""

from .api import cfa, instrument_model
from .estimator import Estimator, get_estimator, register, registered
from .fit_measures import TestStatistic, fit_measures
from .invariance import INVARIANCE_LEVELS, InvarianceResult, ep_structure_test, measurement_invariance
from .latent_gap import LatentGapResult, latent_gap, latent_gap_model
from .options import SEMOptions
from .result import CFAResult
from .score_test import ScoreTestResult, score_tests

__all__ = [
    "cfa",
    "instrument_model",
    "measurement_invariance",
    "ep_structure_test",
    "latent_gap",
    "latent_gap_model",
    "LatentGapResult",
    "score_tests",
    "ScoreTestResult",
    "SEMOptions",
    "CFAResult",
    "InvarianceResult",
    "INVARIANCE_LEVELS",
    "fit_measures",
    "TestStatistic",
    "Estimator",
    "register",
    "registered",
    "get_estimator",
]
