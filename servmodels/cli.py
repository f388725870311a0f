"""Command-line interface: ``servmodels validate|score|items|cfa|gap-model|reliability|omega|efa|regress|compare|bootstrap|report|plan|app|example|demo``.

The CLI only parses arguments, calls the public API and renders results.  Any
:class:`ServmodelsError` becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import re
import shutil
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only light modules here: ``--version`` and ``--help`` (of every command) answer without
# numpy, pandas or the analysis modules; each command imports what it uses.
from . import __version__
from ._exceptions import DataFileError, DataFileNotFoundError, ParameterError, ServmodelsError
from ._params import check_confidence_level, check_int
from .instrument import get_instrument

if TYPE_CHECKING:
    import pandas as pd

    from .data import SurveyData


def read_survey(*args: Any, **kwargs: Any) -> SurveyData:
    """:func:`servmodels.read_survey`, imported when a command first reads a file."""
    from .io import read_survey as read

    _started()
    return read(*args, **kwargs)


#: the garbage collector is paused while a ``servmodels`` process starts (see main)
_gc_paused = False


def _started() -> None:
    """Start-up is over (the command's modules are imported; its data are about to be read).

    Resume the garbage collector that :func:`main` paused, with the objects created so far
    frozen (:func:`gc.freeze`): the ~10^6 functions, classes and tables of numpy, pandas & co.
    are never garbage, and no later collection traverses them again.
    """
    global _gc_paused
    if _gc_paused:
        gc.freeze()
        gc.enable()
        _gc_paused = False


EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"servmodels: error: {message} (see {self.prog} --help)\n")


#: upper bound of counts given on the command line (resamples, iterations, rows per chunk):
#: larger values overflow numpy's index arithmetic or exhaust memory instead of running
_MAX_COUNT = 2**31 - 1


def _int_arg(flag: str, low: int, high: int = _MAX_COUNT) -> Any:
    """argparse ``type=`` for an integer option in [low, high]; a bad value is a usage error naming ``flag``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer; got {text!r}") from None
        try:
            out = check_int(flag, value, low=low, high=high)
        except ParameterError as exc:  # argparse already names the flag
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{flag} ")) from None
        assert out is not None
        return out

    return parse


def _level_arg(flag: str) -> Any:
    """argparse ``type=`` for a confidence level strictly between 0 and 1."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
        try:
            return check_confidence_level(value, flag)
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{flag} ")) from None

    return parse


def _add_data_options(p: argparse.ArgumentParser, *, pilot: bool = False) -> None:
    if pilot:  # plan gap/simulate: the survey file is an optional pilot
        p.add_argument("--pilot", dest="file", metavar="FILE", help="pilot survey (.csv, .xlsx, .sav, ...) to estimate from")
    else:
        p.add_argument("file", help="survey file: .csv, .tsv, .xlsx, .sav, .dta or .parquet")
    p.add_argument("--instrument", default="servqual25", help="preset (servqual25, servqual22) or YAML/JSON file [servqual25]")
    p.add_argument("--scale", nargs=2, type=int, metavar=("MIN", "MAX"), help="Likert range (overrides the instrument)")
    p.add_argument("--columns", metavar="TEMPLATE", help="column naming template, e.g. '{set}_{item}' [{set}{item}]")
    p.add_argument("--map", action="append", default=[], metavar="DEFAULT=ACTUAL", help="rename one column, e.g. P1=perf_q1 (repeatable)")
    p.add_argument("--id", dest="respondent_id", help="respondent id column (duplicates are errors)")
    p.add_argument("--outcome", help="overall satisfaction column")
    p.add_argument("--group", action="append", default=None, dest="groups", help="grouping column, e.g. village (repeatable)")
    p.add_argument("--nan-policy", choices=("raise", "omit"), default="raise", help="missing answers: report (raise) or drop listwise (omit) [raise]")
    p.add_argument("--sheet", metavar="NAME|NUMBER", help="Excel sheet: its name, or its number from 1 [1]")
    p.add_argument("--encoding", metavar="NAME", help="text encoding of a CSV file (or SPSS strings): utf-8, cp1252, "
                   "latin-1, ... [detected: UTF-8, else cp1252, else latin-1]")
    p.add_argument("--decimal", choices=(".", ","), metavar="MARK", help="decimal mark of a CSV file, . or , [detected: ',' when every "
                   "number-like text column uses it and the separator is not ',']")
    p.add_argument("--reverse", metavar="ITEM,...", help="reverse-keyed items (ids or columns, e.g. A1,C4): recoded min + max - x before any analysis")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print a JSON document on stdout")
    p.add_argument("--out", metavar="PATH", help="write the table to .csv, .parquet or .xlsx")
    p.add_argument("--quiet", action="store_true", help="no warnings on stderr")


def _add_sem_options(p: argparse.ArgumentParser) -> None:
    """The options of every factor-model fit (SEMOptions), the same flags in every command."""
    p.add_argument("--estimator", choices=("ML", "MLR", "WLSMV"), default="ML", type=str.upper,
                   help="ML, robust MLR, or WLSMV on polychoric correlations (items ordinal) [ML]")
    p.add_argument("--missing", choices=("listwise", "fiml"), default="listwise",
                   help="missing answers in factor models: drop incomplete respondents (listwise, counted) "
                        "or full-information ML [listwise]")
    p.add_argument("--likelihood", choices=("normal", "wishart"), default="normal", help="[normal]")
    p.add_argument("--std-lv", action="store_true", help="identify factors by unit variances")
    p.add_argument("--strict", action="store_true", help="fail (exit 2) when a fit does not converge instead of warning")




def _sem_options(args: argparse.Namespace, confidence_level: float = 0.95) -> Any:
    from .sem.options import SEMOptions

    return SEMOptions(estimator=args.estimator, missing=args.missing, likelihood=args.likelihood, std_lv=args.std_lv,
                      strict=args.strict, confidence_level=confidence_level, cluster=getattr(args, "cluster", None))


def _read_cluster(args: argparse.Namespace) -> None:
    """Read the ``--cluster`` column with the data (as a grouping column)."""
    if getattr(args, "cluster", None):
        args.groups = list(dict.fromkeys((args.groups or []) + [args.cluster]))


def _progress(args: argparse.Namespace) -> bool:
    """Progress bars on long work: on a terminal, unless --quiet (piped output stays clean)."""
    return sys.stderr.isatty() and not getattr(args, "quiet", False)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="servmodels", description="Inference for SERVQUAL-family service-quality surveys.")
    parser.add_argument("--version", action="version", version=f"servmodels {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="check a survey file and report every problem")
    _add_data_options(p)
    p.add_argument("--scores", nargs="+", metavar="SET", help="score sets to read, e.g. P (default: all of the instrument's)")
    _add_output_options(p)

    p = sub.add_parser("score", help="SERVQUAL/SERVPERF scores of items, dimensions and respondents")
    _add_data_options(p)
    p.add_argument("--scores", nargs="+", metavar="SET", help="score sets to read, e.g. P for a SERVPERF-only file")
    p.add_argument("--weights", metavar="W", help="'importance' or fixed weights 'tangibles=0.2,reliability=0.3,...'")
    p.add_argument("--importance", nargs="+", metavar="COL", help="importance-point columns, one per dimension in order")
    p.add_argument("--stream", action="store_true", help="score the file in chunks with bounded memory (CSV, Parquet, SPSS)")
    p.add_argument("--chunk-rows", type=_int_arg("--chunk-rows", 1), default=250_000, help="rows per chunk with --stream [250000]")
    p.add_argument("--dask", metavar="SCHEDULER", help="score with Dask: 'local' or a distributed scheduler address")
    _add_output_options(p)

    p = sub.add_parser("items", help="item-total correlations, critical r and Cronbach's alpha")
    _add_data_options(p)
    p.add_argument("--scores", help="score set (P, E, a custom set) or gap (P - E) [the instrument's only set, else P]")
    p.add_argument("--confidence-level", type=_level_arg("--confidence-level"), default=0.95, help="for critical r and the Feldt interval [0.95]")
    _add_output_options(p)

    p = sub.add_parser("cfa", help="confirmatory factor analysis (ML, MLR, FIML, WLSMV; lavaan-equivalent)")
    _add_data_options(p)
    p.set_defaults(nan_policy=None)
    p.add_argument("--scores", help="instrument model on P, E, gap or a custom set's items [the only set, else P]")
    p.add_argument("--structure", choices=("correlated", "one_factor", "second_order"), default="correlated",
                   help="instrument model: correlated dimensions, one factor, or second-order [correlated]")
    p.add_argument("--model", help="lavaan model syntax (any numeric columns; no Likert checks)")
    p.add_argument("--model-file", help="file with lavaan model syntax")
    p.add_argument("--invariance", action="store_true", help="with --group: configural, metric, scalar, strict (ordinal items, --estimator WLSMV: configural, "
                        "metric = thresholds + loadings, scalar)")
    p.add_argument("--cluster", metavar="COL", help="cluster column, e.g. village (respondents of a cluster are not "
                   "independent): cluster-robust SEs and scaled test, as lavaan cluster= (ML or MLR)")
    p.add_argument("--modindices", type=int, metavar="N", help="also the N largest modification indices (score tests "
                   "with EPCs, as lavaan modindices; ML, MLR, FIML, WLSMV)")
    p.add_argument("--residuals", action="store_true", help="also the standardized residuals (as lavaan residuals(fit, "
                   "'standardized'); the text shows the 10 largest)")
    _add_sem_options(p)
    p.add_argument("--confidence-level", type=_level_arg("--confidence-level"), default=0.95, help="level of the parameter intervals [0.95]")
    _add_output_options(p)

    p = sub.add_parser("gap-model", help="latent gaps: E and P factors jointly, invariance configural to strict, "
                       "P factor means under scalar invariance (lavaan-equivalent)")
    _add_data_options(p)
    p.set_defaults(nan_policy=None)  # like cfa: incomplete respondents dropped listwise and counted
    p.add_argument("--free-intercepts", metavar="ITEM,...", help="items whose E and P intercepts are not held equal "
                   "(partial scalar invariance): item ids or columns, e.g. 3 or E3,P3")
    p.add_argument("--n-resamples", type=_int_arg("--n-resamples", 0), default=2000,
                   help="BCa bootstrap resamples of the observed gaps (0: paired t-interval) [2000]")
    p.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="bootstrap seed [0]")
    p.add_argument("--confidence-level", type=_level_arg("--confidence-level"), default=0.95, help="[0.95]")
    _add_sem_options(p)
    _add_output_options(p)

    p = sub.add_parser("reliability", help="alpha, omega, CR, AVE, Fornell-Larcker, HTMT with bootstrap CIs, gap reliability")
    _add_data_options(p)
    p.set_defaults(nan_policy=None)  # like cfa: incomplete respondents dropped listwise and counted (or --missing fiml)
    p.add_argument("--scores", help="P, E, gap or a custom set [the instrument's only set, else P]")
    p.add_argument("--n-resamples", type=_int_arg("--n-resamples", 0), default=1000, help="bootstrap resamples (0: no intervals) [1000]")
    p.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="bootstrap seed; the same seed gives the same intervals [0]")
    p.add_argument("--bootstrap-cfa", action="store_true", help="also bootstrap omega, CR and AVE (one CFA refit per resample; slower)")
    p.add_argument("--confidence-level", type=_level_arg("--confidence-level"), default=0.95, help="[0.95]")
    _add_sem_options(p)
    _add_output_options(p)

    p = sub.add_parser("omega", help="hierarchical omega: Schmid-Leiman (psych omega) and second-order CFA (semTools)")
    _add_data_options(p)
    p.set_defaults(nan_policy=None)  # incomplete respondents kept: pairwise correlations (as psych), listwise CFA
    p.add_argument("--scores", help="P, E, gap or a custom set [the instrument's only set, else P]")
    p.add_argument("--n-factors", type=_int_arg("--n-factors", 2), default=3,
                   help="group factors of the Schmid-Leiman solution [3, as psych; 5 for the SERVQUAL dimensions]")
    p.add_argument("--method", choices=("schmid-leiman", "second-order", "both"), default="both",
                   help="Schmid-Leiman (EFA), the instrument's second-order CFA, or both [both]")
    _add_sem_options(p)
    _add_output_options(p)

    p = sub.add_parser("efa", help="exploratory factor analysis, parallel analysis, KMO/Bartlett, congruence")
    _add_data_options(p)
    p.add_argument("--scores", help="P, E, gap or a custom set [the instrument's only set, else P]")
    p.add_argument("--n-factors", type=_int_arg("--n-factors", 1), help="number of factors (default: parallel analysis)")
    p.add_argument("--method", choices=("minres", "ml"), default="minres", help="[minres]")
    p.add_argument("--rotation", choices=("promax", "varimax", "oblimin", "none"), default="promax", help="[promax]")
    p.add_argument("--n-iter", type=_int_arg("--n-iter", 1), default=100, help="random data sets for parallel analysis [100]")
    p.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="[0]")
    _add_output_options(p)

    p = sub.add_parser("regress", help="regress overall satisfaction on the dimension scores")
    _add_data_options(p)
    p.add_argument("--scores", help="P, gap, weighted_gap or a custom set [the instrument's only set, else P]")
    p.add_argument("--cov-type", default=None, choices=("HC3", "classical", "cluster"), help="[HC3; cluster with --cluster]")
    p.add_argument("--cluster", metavar="COL", help="cluster column, e.g. village (respondents of a cluster are not "
                   "independent): cluster-robust SEs")
    p.add_argument("--ordinal", action="store_true", help="proportional-odds logit instead of OLS")
    p.add_argument("--importance-ci", type=_int_arg("--importance-ci", 0), default=0, metavar="B", help="also LMG relative importance with B bootstrap resamples")
    p.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="[0]")
    _add_output_options(p)

    p = sub.add_parser("compare", help="SERVQUAL (gap) versus SERVPERF (perception) as predictors of satisfaction")
    _add_data_options(p)
    p.add_argument("--n-resamples", type=_int_arg("--n-resamples", 0), default=1000, help="bootstrap resamples for the R2 difference [1000]")
    p.add_argument("--n-splits", type=_int_arg("--n-splits", 2), default=10, help="folds for cross-validated R2 [10]")
    p.add_argument("--n-repeats", type=_int_arg("--n-repeats", 1), default=10, help="repeats of k-fold cross-validation [10]")
    p.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="[0]")
    p.add_argument("--no-cfa", action="store_true", help="skip the CFA fit of the P and gap measurement models")
    p.add_argument("--cluster", metavar="COL", help="cluster column, e.g. village (respondents of a cluster are not "
                   "independent): cluster-robust SEs in both regressions and CFAs, whole clusters resampled "
                   "for the R2 interval")
    _add_sem_options(p)
    _add_output_options(p)

    p = sub.add_parser("bootstrap", help="bootstrap intervals and tests for item, dimension and overall gaps")
    _add_data_options(p)
    p.add_argument("--level", choices=("item", "dimension", "overall", "all"), default="dimension", help="[dimension]")
    p.add_argument("--method", choices=("bca", "percentile", "basic", "studentized"), default="bca", help="[bca]")
    p.add_argument("--n-resamples", type=_int_arg("--n-resamples", 0), default=2000, help="[2000]")
    p.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="the same seed gives the same output [0]")
    p.add_argument("--cluster", metavar="COL", help="cluster column, e.g. village (respondents of a cluster are not "
                   "independent): resample whole clusters")
    p.add_argument("--strata", help="resample within strata")
    p.add_argument("--poisson", action="store_true", help="Poisson(1) weights instead of multinomial resampling")
    p.add_argument("--adjust", choices=("holm", "bh"), default="holm", help="p-value adjustment within level [holm]")
    p.add_argument("--confidence-level", type=_level_arg("--confidence-level"), default=0.95, help="[0.95]")
    _add_output_options(p)

    p = sub.add_parser("report", help="the whole analysis, run once, as HTML, Word, Markdown and LaTeX in English and/or Indonesian")
    _add_data_options(p)
    p.add_argument("--lang", default="en", help="en, id, or both: en,id [en]")
    p.add_argument("--format", default="html,docx,md,tex", help="comma-separated: html, docx, md, tex [all]")
    p.add_argument("--out", default="servmodels-report", help="output folder [servmodels-report]")
    p.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="seed of every bootstrap, CV and parallel analysis [0]")
    p.add_argument("--n-resamples", type=_int_arg("--n-resamples", 0), default=None,
                   help="resamples of every bootstrap [each command's default: bootstrap 2000; reliability, compare, IPA 1000]")
    p.add_argument("--cv-repeats", type=_int_arg("--cv-repeats", 1), default=10, help="repeats of 10-fold cross-validation [10]")
    p.add_argument("--title", help="report title")
    p.add_argument("--analyses", metavar="NAME,...",
                   help="the analyses to run, comma-separated: scores, bootstrap, items, reliability, cfa, efa, compare, "
                        "ipa, and the optional invariance (across the first --group) and ikm [the first eight]")
    _add_sem_options(p)
    p.add_argument("--quiet", action="store_true", help="no warnings or progress on stderr")

    _add_plan_parser(sub)
    p = sub.add_parser("app", help="the local web app: upload a survey, analyse it and download the report in a browser")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on [127.0.0.1: this computer only]")
    p.add_argument("--port", type=_int_arg("--port", 0, 65535), default=0, help="port [0: a free one]")
    p.add_argument("--no-browser", action="store_true", help="do not open the web browser")
    p.add_argument("--max-upload-mb", type=float, default=200.0, metavar="MB", help="largest upload in megabytes [200]")

    p = sub.add_parser("example", help="write the bundled synthetic example survey")
    p.add_argument("--out", default="servqual_example.csv", help="destination [servqual_example.csv]")

    p = sub.add_parser("demo", help="score and analyse the bundled example; write a report folder")
    p.add_argument("--out", default="servmodels-demo", help="output folder [servmodels-demo]")
    p.add_argument("--quiet", action="store_true", help="no warnings or progress on stderr")
    return parser


def _float_arg(flag: str) -> Any:
    """argparse ``type=`` for a finite number."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
        return value

    return parse


def _add_plan_parser(sub: Any) -> None:
    """``servmodels plan rmsea|rmsea-nested|gap|simulate`` (docs/planning.md)."""
    p = sub.add_parser("plan", help="study planning: respondents needed (RMSEA power, gap precision, Monte Carlo)")
    plan = p.add_subparsers(dest="plan_kind", required=True, parser_class=_Parser, metavar="KIND")

    def outputs(q: argparse.ArgumentParser) -> None:
        q.add_argument("--plot", metavar="FILE", help="write the plot of power (or half-width) against n: .png, .pdf, .svg")
        q.add_argument("--lang", choices=("en", "id"), default="en", help="language of the methods paragraph [en]")
        q.add_argument("--json", action="store_true", help="print a JSON document on stdout")
        q.add_argument("--out", metavar="PATH", help="write the table to .csv, .parquet or .xlsx")
        q.add_argument("--quiet", action="store_true", help="no warnings or progress on stderr")

    def power_or_n(q: argparse.ArgumentParser) -> None:
        q.add_argument("--n", type=_int_arg("--n", 2), help="total sample size: compute the power")
        q.add_argument("--power", type=_float_arg("--power"), help="target power: compute the smallest n above it [0.8]")
        q.add_argument("--alpha", type=_float_arg("--alpha"), default=0.05, help="significance level [0.05]")
        q.add_argument("--n-groups", type=_int_arg("--n-groups", 1), default=1, help="groups of a multiple-group model [1]")

    q = plan.add_parser("rmsea", help="power or n of the RMSEA test of close/not-close fit (MacCallum et al. 1996; semTools)")
    q.add_argument("--df", type=_int_arg("--df", 1), help="degrees of freedom [counted from --instrument's model]")
    q.add_argument("--instrument", help="count df from this instrument's model (preset or YAML/JSON) [servqual25: 265]")
    q.add_argument("--structure", choices=("correlated", "one_factor", "second_order"), default="correlated",
                   help="the instrument's model [correlated]")
    q.add_argument("--rmsea0", type=_float_arg("--rmsea0"), default=0.05, help="RMSEA under H0 [0.05]")
    q.add_argument("--rmsea-a", type=_float_arg("--rmsea-a"), default=0.08,
                   help="RMSEA under the alternative: above rmsea0 tests close fit, below it not-close fit [0.08]")
    power_or_n(q)
    outputs(q)

    q = plan.add_parser("rmsea-nested", help="power or n of the test between nested models (MacCallum, Browne & Cai 2006)")
    q.add_argument("--df-a", type=_int_arg("--df-a", 1), required=True, help="df of model A, the more restricted one")
    q.add_argument("--df-b", type=_int_arg("--df-b", 0), required=True, help="df of model B, the less restricted one")
    q.add_argument("--rmsea1-a", type=_float_arg("--rmsea1-a"), required=True, help="RMSEA of model A under the alternative")
    q.add_argument("--rmsea1-b", type=_float_arg("--rmsea1-b"), help="RMSEA of model B under the alternative [--rmsea0-b]")
    q.add_argument("--rmsea0-a", type=_float_arg("--rmsea0-a"), default=0.0, help="RMSEA of model A under H0 [0]")
    q.add_argument("--rmsea0-b", type=_float_arg("--rmsea0-b"), default=0.0, help="RMSEA of model B under H0 [0]")
    power_or_n(q)
    outputs(q)

    q = plan.add_parser("gap", help="n for a gap's confidence-interval half-width, with the design effect of villages")
    q.add_argument("--half-width", type=_float_arg("--half-width"), required=True, help="largest CI half-width (scale points)")
    q.add_argument("--sd", type=_float_arg("--sd"), help="assumed SD of the gap (or give --pilot)")
    q.add_argument("--confidence-level", type=_level_arg("--confidence-level"), default=0.95, help="[0.95]")
    q.add_argument("--icc", type=_float_arg("--icc"), help="intraclass correlation of the gap within villages")
    q.add_argument("--cluster-size", type=_int_arg("--cluster-size", 1), help="respondents per village (with --icc)")
    q.add_argument("--n-clusters", type=_int_arg("--n-clusters", 1), help="number of villages (with --icc; instead of --cluster-size)")
    q.add_argument("--level", choices=("dimension", "item", "overall"), default="dimension",
                   help="with --pilot: plan every dimension's, item's or the overall gap [dimension]")
    _add_data_options(q, pilot=True)
    outputs(q)

    q = plan.add_parser("simulate", help="Monte Carlo: CFA convergence, power per dimension, CI coverage, SERVQUAL vs SERVPERF")
    q.add_argument("--n", required=True, metavar="N,N,...", help="sample sizes, e.g. 100,200,300")
    q.add_argument("--replications", type=_int_arg("--replications", 1, 10**7), default=200, help="per sample size [200]")
    q.add_argument("--seed", type=_int_arg("--seed", 0, 2**63 - 1), default=0, help="the same seed gives the same output [0]")
    q.add_argument("--workers", type=_int_arg("--workers", 0, 1024), default=0,
                   help="worker processes; 0 = one per available core; the output does not depend on it [0]")
    _add_data_options(q, pilot=True)
    q.add_argument("--correlation", choices=("polychoric", "pearson"), default="polychoric",
                   help="with --pilot: correlations the model is estimated from [polychoric]")
    q.add_argument("--loading", type=_float_arg("--loading"), default=0.7, help="without --pilot [0.7]")
    q.add_argument("--factor-correlation", type=_float_arg("--factor-correlation"), default=0.5, help="without --pilot [0.5]")
    q.add_argument("--set-correlation", type=_float_arg("--set-correlation"), default=0.4,
                   help="correlation of a dimension's E and P factors, without --pilot [0.4]")
    q.add_argument("--gaps", metavar="G|DIM=G,...", help="true gap of every dimension, or DIM=G,... (without --pilot)")
    q.add_argument("--outcome-correlation", type=_float_arg("--outcome-correlation"),
                   help="latent satisfaction with the mean perception factor [the pilot's estimate, else 0.7]")
    q.add_argument("--village-sd", type=_float_arg("--village-sd"), help="SD of the village effect [0.25; with --pilot 0]")
    q.add_argument("--villages", type=_int_arg("--villages", 1, 10**6), default=12, help="number of villages [12]")
    q.add_argument("--test", choices=("t", "bootstrap"), default="t", help="test of gap = 0 and its interval [t]")
    q.add_argument("--bootstrap-method", choices=("percentile", "basic", "bca"), default="bca", help="with --test bootstrap [bca]")
    q.add_argument("--n-resamples", type=_int_arg("--n-resamples", 2), default=499, help="with --test bootstrap [499]")
    q.add_argument("--cluster", action="store_true", help="with --test bootstrap: resample villages")
    q.add_argument("--alpha", type=_float_arg("--alpha"), default=0.05, help="significance level [0.05]")
    q.add_argument("--confidence-level", type=_level_arg("--confidence-level"), default=0.95, help="[0.95]")
    q.add_argument("--target-power", type=_float_arg("--target-power"), default=0.8, help="power a recommended n must reach [0.8]")
    q.add_argument("--cfa-scores", choices=("P", "E", "gap", "none"), default="P", help="items of the CFA, or none [P]")
    q.add_argument("--no-compare", action="store_true", help="skip the SERVQUAL-versus-SERVPERF comparison")
    outputs(q)


def _parse_map(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        if "=" not in pair:
            raise ParameterError(f"--map expects DEFAULT=ACTUAL, got {pair!r}")
        k, v = pair.split("=", 1)
        out[k.strip()] = v.strip()
    return out


#: reading options as io.py's messages spell them (encoding=NAME, decimal=',') -> CLI flags
_READ_OPTION = re.compile(r"\b(encoding|decimal|sheet)=(?:'([^']*)'|([A-Z]+)\b)")


def _reading_flags(message: str) -> str:
    return _READ_OPTION.sub(lambda m: f"--{m[1]} {m[2] if m[2] is not None else m[3]}", message)


def _reading(func: Any) -> Any:
    """Decorator: errors of reading a file name the reading options as CLI flags (``--encoding NAME``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ServmodelsError as exc:
            exc.args = (_reading_flags(str(exc)),)
            for attr in ("override", "hint"):  # ValidationError's parts of the CLI line
                if getattr(exc, attr, None):
                    setattr(exc, attr, _reading_flags(getattr(exc, attr)))
            raise

    return wrapper


def _notes(args: argparse.Namespace, notes: Sequence[str]) -> None:
    """Each note about how the file was read, once, on stderr (not with --quiet)."""
    shown = vars(args).setdefault("_notes_shown", set())
    for note in notes:
        if note not in shown and not getattr(args, "quiet", False):
            sys.stderr.write(f"servmodels: note: {_reading_flags(note)}\n")
        shown.add(note)


def _instrument(args: argparse.Namespace) -> Any:
    """The instrument of --instrument, with --columns and --reverse applied."""
    inst = get_instrument(args.instrument)
    if args.columns:
        inst = inst.with_columns(column_template=args.columns)
    if getattr(args, "reverse", None):
        inst = inst.with_reverse(args.reverse)
    return inst


@_reading
def _read(args: argparse.Namespace, score_sets: Sequence[str] | None) -> SurveyData:
    inst = _instrument(args)
    importance = None
    if getattr(args, "importance", None):
        if len(args.importance) != len(inst.dimension_names):
            raise ParameterError(
                f"--importance needs {len(inst.dimension_names)} columns ({', '.join(inst.dimension_names)}), got {len(args.importance)}"
            )
        importance = dict(zip(inst.dimension_names, args.importance))
    data = read_survey(
        args.file,
        inst,
        scale=tuple(args.scale) if args.scale else None,
        score_sets=list(score_sets) if score_sets else None,
        column_map=_parse_map(args.map) or None,
        outcome=args.outcome,
        respondent_id=args.respondent_id,
        groups=args.groups,
        importance=importance,
        nan_policy=args.nan_policy,
        sheet=args.sheet,  # a digit string is a sheet's number from 1, unless a sheet has that name
        encoding=getattr(args, "encoding", None),
        decimal=getattr(args, "decimal", None),
    )
    _notes(args, data.metadata.get("notes", ()))
    return data


def _parse_weights(text: str | None) -> Any:
    if text is None or text == "importance":
        return text
    out = {}
    for part in text.split(","):
        if "=" not in part:
            raise ParameterError(f"--weights expects 'importance' or DIM=W,DIM=W,..., got {text!r}")
        k, v = part.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise ParameterError(f"--weights: {v!r} is not a number") from None
    return out


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a result table by extension (.csv, .parquet, .xlsx)."""
    path = Path(path)
    ext = path.suffix.lower()
    try:
        if ext == ".csv":
            frame.to_csv(path, index=False)
        elif ext in (".parquet", ".pq"):
            frame.to_parquet(path, index=False)
        elif ext == ".xlsx":
            frame.to_excel(path, index=False, engine="openpyxl")
        else:
            raise ParameterError(f"--out: unsupported extension {ext or '(none)'}; use .csv, .parquet or .xlsx")
    except OSError as exc:
        raise DataFileError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def _emit(args: argparse.Namespace, payload: dict[str, Any] | Callable[[], dict[str, Any]],
          text: str | Callable[[], str], table: pd.DataFrame | None) -> None:
    """Write the table (--out) and print the JSON document or the text; a callable payload or text
    is computed only when it is printed."""
    if getattr(args, "out", None) and table is not None:
        write_table(table, args.out)
    if args.json:
        doc = payload() if callable(payload) else payload
        sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write((text() if callable(text) else text) + "\n")
        if getattr(args, "out", None) and table is not None:
            sys.stdout.write(f"wrote {args.out}\n")


def _cmd_validate(args: argparse.Namespace) -> None:
    """Check a file: every problem (text on stdout, or a JSON list), then warnings about singular item sets."""
    from ._exceptions import SingularDataWarning, ValidationError
    from ._numerics import item_diagnostics

    try:
        data = _read(args, args.scores)
    except ValidationError as exc:
        # the whole list goes to stdout; main() still writes the one-line error and exits 2
        if args.json:
            doc = {"valid": False, "source": exc.source, "n_problems": len(exc.problems),
                   "problems": [{**p.to_dict(), "message": p.message()} for p in exc.problems]}
            sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(_cli_spelling(exc.report()) + "\n")
        raise
    # singular item sets are found here, before any model is fitted (constant items: validate_survey warns)
    found = item_diagnostics(data.responses, {s: data.instrument.columns(s) for s in data.score_sets})
    for msg in found:
        if msg not in data.warnings:
            warnings.warn(msg, SingularDataWarning, stacklevel=2)
    issued = list(dict.fromkeys([*data.warnings, *found]))
    sets = ", ".join(f"{s} ({data.instrument.set_name(s)})" if data.instrument.set_name(s) != s else s
                     for s in data.score_sets)
    text = (
        f"OK: {data.source} — {data.n_respondents} respondents used, {data.n_dropped} dropped; "
        f"{data.instrument.n_items} items x score sets {sets}; scale {data.instrument.scale[0]}-{data.instrument.scale[1]}"
    )
    if issued:
        text += f"; {len(issued)} warning{'s' if len(issued) > 1 else ''}"
    payload = {
        "valid": True,
        "source": data.source,
        "n_respondents": data.n_respondents,
        "n_dropped": data.n_dropped,
        "dropped_rows": list(data.dropped_rows),
        "score_sets": list(data.score_sets),
        "scale": list(data.instrument.scale),
        "warnings": issued,
    }
    _emit(args, payload, text, data.to_frame() if args.out else None)


def _cmd_score(args: argparse.Namespace) -> None:
    if args.stream or args.dask:
        return _cmd_score_stream(args)
    from .scoring import score

    data = _read(args, args.scores)
    res = score(data, weights=_parse_weights(args.weights))
    _emit(args, res.to_dict, res.summary, res.respondents if res.respondents is not None else res.items)


@_reading
def _cmd_score_stream(args: argparse.Namespace) -> None:
    from .streaming import dask_score, stream_score

    _started()

    if args.weights or args.importance or args.outcome or args.groups or args.sheet:
        raise ParameterError("--stream/--dask score items only; drop --weights, --importance, --outcome, --group, --sheet")
    inst = _instrument(args)
    kw = dict(scale=tuple(args.scale) if args.scale else None,
              score_sets=list(args.scores) if args.scores else None,
              column_map=_parse_map(args.map) or None, respondent_id=args.respondent_id, nan_policy=args.nan_policy,
              encoding=args.encoding, decimal=args.decimal)
    if Path(args.file).suffix.lower() in (".csv", ".tsv", ".txt") and Path(args.file).is_file():
        from .io import _sniff_text

        # the notes of the streamed reading, decided on the head of the file
        _notes(args, _sniff_text(args.file, encoding=args.encoding, decimal=args.decimal).notes)
    if args.dask:
        if args.out:
            raise ParameterError("--out is not supported with --dask; use --stream")
        try:
            res, _ = dask_score(args.file, inst, scheduler=args.dask, **kw)
        except ServmodelsError:
            raise
        except ImportError as exc:
            raise ParameterError(f"--dask {args.dask}: needs the {exc.name or 'dask'!r} package (pip install 'dask[distributed]')") from None
        except OSError as exc:  # distributed.Client: scheduler address unreachable or malformed
            raise ParameterError(f"--dask {args.dask}: cannot connect to the scheduler: {exc}") from None
    else:
        res, _ = stream_score(args.file, inst, chunk_rows=args.chunk_rows, out=args.out, progress=_progress(args), **kw)
    args.out = None  # respondent scores were written chunk by chunk
    _emit(args, res.to_dict, res.summary, None)


def _cmd_items(args: argparse.Namespace) -> None:
    from .reliability import item_analysis

    code, needed = _scores_and_sets(args)
    data = _read(args, needed)
    res = item_analysis(data, scores=code, confidence_level=args.confidence_level)
    _emit(args, res.to_dict, res.summary, res.items)


def _cmd_cfa(args: argparse.Namespace) -> None:
    from ._results import jsonable
    from .io import read_table
    from .sem import cfa, measurement_invariance

    opts = _sem_options(args, args.confidence_level)
    model = args.model
    if args.modindices is not None and args.modindices < 1:
        raise ParameterError(f"--modindices takes a number of rows >= 1, got {args.modindices}")
    if args.model and args.model_file:
        raise ParameterError("give --model or --model-file, not both")
    if args.model_file:
        try:
            model = Path(args.model_file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DataFileNotFoundError(f"cannot read model file {args.model_file!r}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise DataFileError(f"cannot read model file {args.model_file!r}: {reason}") from None
    group = args.groups[0] if args.groups else None
    if args.groups and len(args.groups) > 1:
        raise ParameterError("cfa takes one --group column")
    if args.cluster and args.cluster == group:
        raise ParameterError(f"--cluster {args.cluster} and --group {group}: the same column cannot be both")
    if args.invariance and group is None:
        raise ParameterError("--invariance needs --group COL")
    reversed_cols: tuple[str, ...] = ()
    if model is not None:
        # user syntax: any numeric columns, no Likert checks
        _started()
        data, meta = _reading(read_table)(args.file, sheet=args.sheet, encoding=args.encoding, decimal=args.decimal)
        _notes(args, meta.get("notes", ()))
        inst = get_instrument(args.instrument)
        # user syntax reads raw columns: recode the reverse-keyed ones (--reverse, and the instrument's own list,
        # in every score set the file has) on the instrument's (or --scale) range
        cols = [c.strip() for c in (args.reverse or "").split(",") if c.strip()]
        absent = [c for c in cols if c not in data.columns]
        if absent:
            raise ParameterError(f"--reverse names column(s) {', '.join(absent)}, which the file does not have")
        cols += [c for s in inst.score_sets for c in inst.reverse_columns(s) if c in data.columns and c not in cols]
        if cols:
            import pandas as pd

            lo, hi = tuple(args.scale) if args.scale else inst.scale
            data = data.assign(**{c: (lo + hi) - pd.to_numeric(data[c], errors="coerce") for c in cols})
        reversed_cols = tuple(cols)
    else:
        code, needed = _scores_and_sets(args)
        args.groups = [c for c in (group, args.cluster) if c] or None
        policy = args.nan_policy
        args.nan_policy = "fiml" if policy is None or opts.missing == "fiml" else policy  # keep incomplete rows for cfa
        data = _read(args, needed)
        args.nan_policy = policy
        args.scores = code
    inv = None
    if args.invariance:
        # the configural step is the grouped model itself: fitted once, reported as the main result
        inv = measurement_invariance(data, model, group=group, options=opts, scores=args.scores, nan_policy=args.nan_policy)
        res = inv.fits["configural"]
    else:
        res = cfa(data, model, options=opts, scores=args.scores, structure=args.structure, group=group,
                  nan_policy=args.nan_policy)
    if model is not None and reversed_cols:
        object.__setattr__(res, "reverse_keyed", reversed_cols)  # recorded like every other result
    if res.n_dropped and not args.quiet:
        sys.stderr.write(f"servmodels: note: {res.n_dropped} respondent(s) with missing answers dropped (listwise); "
                         f"{res.n_respondents} used" + ("; --missing fiml uses every answer\n" if opts.missing == "listwise" else "\n"))

    res_groups = [str(g) for g in res.groups] or [""]
    mi = resid = None
    if args.modindices is not None:
        mi = res.modification_indices.sort_values("mi", ascending=False).head(args.modindices).reset_index(drop=True)
    if args.residuals:
        resid = res.residuals

    def payload() -> dict[str, Any]:
        doc = res.to_dict()
        # lavaan's column names in the CLI JSON (documented): est, pvalue
        doc["parameters"] = [{("est" if k == "estimate" else "pvalue" if k == "p_value" else k): v for k, v in row.items()}
                             for row in doc["parameters"]]
        if inv is not None:
            doc["invariance"] = jsonable(inv.to_frame())
        if mi is not None:
            doc["modification_indices"] = jsonable(mi)
        if inv is not None and (mi is not None or resid is not None):
            doc["diagnostics_model"] = "configural"  # modification indices and residuals are the configural fit's
        if resid is not None:
            doc["residuals"] = {"standardized": [{"group": g, "rows": jsonable(m.reset_index(names="variable"))}
                                                 for g, m in zip(res_groups, resid["standardized"])]}
            if "thresholds" in resid:
                doc["residuals"]["thresholds"] = [{"group": g, "rows": jsonable(t.reset_index(names="threshold"))}
                                                  for g, t in zip(res_groups, resid["thresholds"])]
            if "mean" in resid:
                doc["residuals"]["mean"] = [{"group": g, "rows": jsonable(t.reset_index(names="variable"))}
                                            for g, t in zip(res_groups, resid["mean"])]
        return doc

    def text() -> str:
        out = res.summary() + ("\n\n" + inv.summary() if inv is not None else "")
        which = "; the configural model" if inv is not None else ""
        if mi is not None:
            rows = [f"  {r.lhs} {r.op} {r.rhs}".ljust(28) + (f"{r.group:<14}" if len(res_groups) > 1 else "")
                    + f"{r.mi:10.3f} {r.epc:9.3f} {r.sepc_all:9.3f}" for r in mi.itertuples()]
            out += (f"\n\nModification indices (the {len(mi)} largest; lavaan modindices{which})\n"
                    + "  parameter".ljust(28) + ("group".ljust(14) if len(res_groups) > 1 else "")
                    + "        mi       epc  sepc.all\n" + "\n".join(rows))
        if resid is not None:
            out += (f"\n\nLargest standardized residuals (lavaan residuals, type = 'standardized'{which})\n"
                    + "  moment".ljust(28) + ("group".ljust(14) if len(res_groups) > 1 else "") + "        z\n") + "\n".join(
                f"  {a} {b}".rstrip().ljust(28) + (f"{g:<14}" if len(res_groups) > 1 else "") + f"{z:9.3f}"
                for g, a, b, z in _largest_residuals(resid["standardized"], res_groups, 10, resid.get("mean")))
        return out

    _emit(args, payload, text, res.parameters)


def _largest_residuals(mats: list, groups: list[str], k: int, means: list | None = None) -> list[tuple[str, str, str, float]]:
    """The k largest |standardized residuals| over groups (lower triangle with the diagonal, and the
    mean residuals, shown as ``X ~1``, when there are any)."""
    import numpy as np

    found = []
    for g, m in zip(groups, mats):
        a = m.to_numpy()
        i, j = np.tril_indices(len(a))
        found += [(g, f"{m.columns[c]} ~~", m.index[r], float(a[r, c])) for r, c in zip(i, j) if np.isfinite(a[r, c])]
    for g, t in zip(groups, means or []):
        found += [(g, f"{v} ~1", "", float(z)) for v, z in t["standardized"].items() if np.isfinite(z)]
    return sorted(found, key=lambda t: -abs(t[3]))[:k]


def _cmd_gap_model(args: argparse.Namespace) -> None:
    from .sem.latent_gap import latent_gap

    opts = _sem_options(args, args.confidence_level)
    policy = args.nan_policy
    args.nan_policy = "fiml" if policy is None else policy  # keep incomplete rows: dropped listwise and counted
    data = _read(args, ["E", "P"])
    args.nan_policy = policy
    res = latent_gap(data, options=opts, free_intercepts=args.free_intercepts, n_resamples=args.n_resamples,
                     rng=args.seed)
    if res.n_dropped and not args.quiet:
        sys.stderr.write(f"servmodels: note: {res.n_dropped} respondent(s) with missing answers dropped (listwise); "
                         f"{res.n_respondents} used\n")
    _emit(args, res.to_dict(), res.summary(), res.to_frame())


def _scores_and_sets(args: argparse.Namespace, extra: Sequence[str] = ()) -> tuple[str, list[str]]:
    """``--scores`` as a code (or gap name) and the score sets to read for it.

    Left out, it is the instrument's only score set, else P.
    """
    inst = _instrument(args)
    text = args.scores
    if text is None:
        code = inst.default_scores()
        return code, [code]
    gaps = {"gap": ["E", "P"], "adequacy": ["M", "P"], "superiority": ["D", "P"]}
    if text.lower() in gaps or text.lower() in extra:
        return text.lower(), gaps.get(text.lower(), ["E", "P"])
    code = inst.set_code(text)
    if code is None:
        choices = [*inst.score_sets, *[g for g in gaps if set(gaps[g]) <= set(inst.score_sets)], *extra]
        raise ParameterError(f"--scores must be one of {', '.join(choices)}; got {text!r}")
    return code, [code]


def _cmd_reliability(args: argparse.Namespace) -> None:
    from .validity import validity

    code, needed = _scores_and_sets(args)
    opts = _sem_options(args)
    if opts.missing == "fiml" or args.nan_policy is None:
        # keep incomplete respondents: validity uses every answer (fiml) or drops them listwise and counts them
        args.nan_policy = "fiml"
    inst = _instrument(args)
    # read E as well when the file has it, so the P - E difference-score table can be given
    sets = needed if code != "P" or "E" not in inst.score_sets else None
    try:
        data = _read(args, sets)
    except ServmodelsError:
        if sets is not None:
            raise
        data = _read(args, needed)
    res = validity(data, scores=code, n_resamples=args.n_resamples, rng=args.seed,
                   confidence_level=args.confidence_level, bootstrap_cfa=args.bootstrap_cfa, options=opts,
                   progress=_progress(args))
    if res.n_dropped and not args.quiet:
        sys.stderr.write(f"servmodels: note: {res.n_dropped} respondent(s) dropped (missing answers); "
                         f"{res.n_respondents} used" + ("; --missing fiml uses every answer\n" if opts.missing == "listwise" else "\n"))
    _emit(args, res.to_dict, res.summary, res.dimensions.reset_index())


def _cmd_omega(args: argparse.Namespace) -> None:
    from .omega import omega_hierarchical, omega_higher_order

    code, needed = _scores_and_sets(args)
    opts = _sem_options(args)
    if args.nan_policy is None or opts.missing == "fiml":
        args.nan_policy = "fiml"  # keep incomplete respondents: pairwise correlations; the CFA drops or uses them
    data = _read(args, needed)
    payload: dict[str, Any] = {}
    texts, table = [], None
    if args.method in ("schmid-leiman", "both"):
        sl = omega_hierarchical(data, scores=code, n_factors=args.n_factors)
        payload["schmid_leiman"] = sl.to_dict()
        texts.append(sl.summary())
        table = sl.to_frame()
    if args.method in ("second-order", "both"):
        ho = omega_higher_order(data, scores=code, options=opts)
        payload["second_order"] = ho.to_dict()
        texts.append(ho.summary())
        table = ho.to_frame() if table is None else table
    _emit(args, payload, "\n\n".join(texts), table)


def _cmd_efa(args: argparse.Namespace) -> None:
    from .validity import efa

    code, needed = _scores_and_sets(args)
    data = _read(args, needed)
    res = efa(data, scores=code, n_factors=args.n_factors, method=args.method,
              rotation=None if args.rotation == "none" else args.rotation, n_iter=args.n_iter, rng=args.seed,
              progress=_progress(args))
    _emit(args, res.to_dict, res.summary, res.loadings.reset_index(names="item"))


def _need_outcome(args: argparse.Namespace) -> None:
    if not args.outcome and not get_instrument(args.instrument).outcome:
        raise ParameterError("--outcome COL is required (the overall satisfaction column)")


def _cmd_regress(args: argparse.Namespace) -> None:
    from ._results import jsonable
    from .regression import regress, relative_importance

    _need_outcome(args)
    _read_cluster(args)
    code, needed = _scores_and_sets(args, extra=("weighted_gap",))
    args.scores = code
    data = _read(args, needed)
    res = regress(data, scores=args.scores, cov_type=args.cov_type, cluster=args.cluster, ordinal=args.ordinal)
    payload = res.to_dict()
    text = res.summary()
    if args.importance_ci:
        imp = relative_importance(data, scores=args.scores, n_resamples=args.importance_ci, rng=args.seed,
                                  progress=_progress(args))
        payload["relative_importance"] = jsonable(imp.to_frame())
        text += "\n\n" + imp.summary()
    _emit(args, payload, text, res.coefficients)


def _no_fiml(args: argparse.Namespace, command: str) -> None:
    if args.missing == "fiml":
        raise ParameterError(f"{command}: --missing fiml applies to cfa and reliability; the regressions of {command} "
                             "need complete answers (use --nan-policy omit to drop incomplete respondents)")


def _cmd_compare(args: argparse.Namespace) -> None:
    from .regression import compare_servqual_servperf

    _no_fiml(args, "compare")
    _need_outcome(args)
    _read_cluster(args)
    data = _read(args, None)
    res = compare_servqual_servperf(data, n_splits=args.n_splits, n_repeats=args.n_repeats, n_resamples=args.n_resamples,
                                    rng=args.seed, include_cfa=not args.no_cfa, options=_sem_options(args),
                                    cluster=args.cluster, progress=_progress(args))
    _emit(args, res.to_dict, res.summary, None)


def _cmd_bootstrap(args: argparse.Namespace) -> None:
    from .bootstrap import gap_bootstrap

    if args.cluster and args.strata:
        raise ParameterError("--cluster and --strata: use one of them, not both")
    extra = [c for c in (args.cluster, args.strata) if c]
    if extra:
        args.groups = sorted(set((args.groups or []) + extra))
    data = _read(args, ["E", "P"])
    res = gap_bootstrap(data, method=args.method, n_resamples=args.n_resamples, rng=args.seed,
                        confidence_level=args.confidence_level, cluster=args.cluster, strata=args.strata,
                        poisson=args.poisson, adjust=args.adjust, progress=_progress(args))
    levels = ("item", "dimension", "overall", "perception") if args.level == "all" else (args.level,)
    table = res.table[res.table["level"].isin(levels)]
    _emit(args, lambda: res.to_dict(levels), lambda: res.summary(levels=levels), table)


def _cmd_report(args: argparse.Namespace) -> int:
    from .render import write_report

    _no_fiml(args, "report")
    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("html", "docx", "md", "tex", "latex")]
    if bad or not formats:
        raise ParameterError(f"--format takes html, docx, md, tex; got {args.format!r}")
    langs = [x.strip().lower() for x in args.lang.split(",") if x.strip()]
    if not langs or any(x not in ("en", "id") for x in langs):
        raise ParameterError(f"--lang takes en, id or en,id; got {args.lang!r}")
    _analyses_arg(args)
    out = args.out
    args.out = None
    _check_out_folder(out)
    analysis = report_analysis(args, progress=_progress(args))
    paths = write_report(analysis, out, formats, langs)
    return _report_outcome(args, analysis, paths)


def _analyses_arg(args: argparse.Namespace) -> list[str] | None:
    """``--analyses`` of report as a list (None: the default eight)."""
    if getattr(args, "analyses", None) is None:
        return None
    from .analysis import ANALYSES, OPTIONAL_ANALYSES

    names = [a.strip().lower() for a in args.analyses.split(",") if a.strip()]
    bad = [a for a in names if a not in ANALYSES + OPTIONAL_ANALYSES]
    if bad or not names:
        raise ParameterError(f"--analyses takes {', '.join(ANALYSES + OPTIONAL_ANALYSES)}; got {args.analyses!r}")
    return names


def report_analysis(args: argparse.Namespace, *, progress: bool = False, on_progress: Any = None) -> Any:
    """The analysis behind ``servmodels report`` for parsed arguments: read the file, run :func:`analyze`.

    The web app (``servmodels app``) calls this with the arguments of the command it shows,
    so the page, its downloads and the command give the same numbers.
    """
    from .analysis import analyze

    _no_fiml(args, "report")
    analyses = _analyses_arg(args)
    data = _read(args, None)
    return analyze(data, seed=args.seed, n_resamples=args.n_resamples, options=_sem_options(args),
                   cv_repeats=args.cv_repeats, title=args.title, input_path=args.file, progress=progress,
                   analyses=analyses, on_progress=on_progress)


def _report_outcome(args: argparse.Namespace, analysis: Any, paths: Sequence[Path]) -> int:
    """Each analysis's warnings and every analysis not run, on stderr; exit 3 with --strict if any was not run."""
    for name, step in analysis.steps.items():
        if not args.quiet:
            for w in step.warnings:
                sys.stderr.write(f"servmodels: warning: {name}: {_cli_spelling(w)}\n")
        if step.skipped is not None and (step.failed or not args.quiet):
            kind = "error" if step.failed else "note"
            why = _cli_spelling(step.skipped)
            for prefix in (f"{name}: ", "validity: " if name == "reliability" else f"{name}: "):
                why = why.removeprefix(prefix)
            sys.stderr.write(f"servmodels: {kind}: {name} not run: {why}\n")
    sys.stdout.write("wrote " + ", ".join(str(p) for p in paths) + "\n")
    if args.strict and analysis.skipped:
        sys.stderr.write(f"servmodels: --strict: {len(analysis.skipped)} analysis(es) not run: "
                         f"{', '.join(analysis.skipped)}\n")
        return EXIT_INCOMPLETE
    return EXIT_OK


def _parse_n_list(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(int(part))
        except ValueError:
            raise ParameterError(f"--n takes sample sizes separated by commas, e.g. 100,200; got {text!r}") from None
    if not out:
        raise ParameterError(f"--n takes sample sizes separated by commas, e.g. 100,200; got {text!r}")
    return out


def _parse_gaps(text: str | None) -> Any:
    if text is None:
        return None
    try:
        if "=" not in text:
            return float(text)
        out = {}
        for part in text.split(","):
            k, v = part.split("=", 1)
            out[k.strip()] = float(v)
        return out
    except ValueError:
        raise ParameterError(f"--gaps takes one number or DIM=G,DIM=G,...; got {text!r}") from None


def _cmd_plan(args: argparse.Namespace) -> None:
    from . import planning

    kind = args.plan_kind
    if kind == "rmsea":
        res = planning.plan_rmsea(df=args.df, n=args.n, power=args.power, rmsea0=args.rmsea0, rmsea_a=args.rmsea_a,
                                  alpha=args.alpha, n_groups=args.n_groups,
                                  instrument=_reading(get_instrument)(args.instrument) if args.instrument else None,
                                  structure=args.structure)
        table = res.to_frame()
    elif kind == "rmsea-nested":
        res = planning.plan_rmsea_nested(df_a=args.df_a, df_b=args.df_b, rmsea1_a=args.rmsea1_a, rmsea1_b=args.rmsea1_b,
                                         rmsea0_a=args.rmsea0_a, rmsea0_b=args.rmsea0_b, n=args.n, power=args.power,
                                         alpha=args.alpha, n_groups=args.n_groups)
        table = res.to_frame()
    elif kind == "gap":
        pilot = _read(args, ["E", "P"]) if args.file else None
        res = planning.plan_gap(half_width=args.half_width, sd=args.sd, pilot=pilot,
                                confidence_level=args.confidence_level, icc=args.icc, cluster_size=args.cluster_size,
                                n_clusters=args.n_clusters, level=args.level)
        table = res.to_frame()
    else:  # simulate
        grid = _parse_n_list(args.n)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        workers = args.workers or cores
        common = dict(replications=args.replications, rng=args.seed, village_sd=args.village_sd,
                      villages=args.villages, outcome_correlation=args.outcome_correlation, test=args.test,
                      bootstrap_method=args.bootstrap_method, n_resamples=args.n_resamples, cluster=args.cluster,
                      alpha=args.alpha, confidence_level=args.confidence_level, target_power=args.target_power,
                      cfa_scores=None if args.cfa_scores == "none" else args.cfa_scores, compare=not args.no_compare,
                      workers=workers, progress=_progress(args))
        if args.file:
            if args.gaps is not None:
                raise ParameterError("--gaps: with --pilot the gaps come from the pilot; drop --gaps")
            pilot = _read(args, ["E", "P"])
            res = planning.plan_simulate(grid, pilot=pilot, correlation=args.correlation, loading=args.loading,
                                         factor_correlation=args.factor_correlation,
                                         set_correlation=args.set_correlation, **common)
        else:
            res = planning.plan_simulate(grid, instrument=_instrument(args),
                                         scale=tuple(args.scale) if args.scale else None, loading=args.loading,
                                         factor_correlation=args.factor_correlation,
                                         set_correlation=args.set_correlation, gaps=_parse_gaps(args.gaps), **common)
        table = res.by_n.merge(res.table, on="n", suffixes=("", "_dimension"))
    if args.plot:
        res.plot(args.plot, lang=args.lang)
    text = res.summary()
    if args.lang != "en":
        text = text.replace(res.methods_text("en"), res.methods_text(args.lang))
    if args.plot and not args.json:
        text += f"\nwrote {args.plot}"
    _emit(args, res.to_dict(), text, table)


def _cmd_example(args: argparse.Namespace) -> None:
    from .datasets import example_path

    try:
        shutil.copyfile(example_path(), args.out)
    except OSError as exc:
        raise DataFileError(f"cannot write {args.out!r}: {exc.strerror or exc}") from None
    sys.stdout.write(f"wrote {args.out} (synthetic example: 100 respondents, E1-E25, P1-P25, satisfaction)\n")


def _check_out_folder(path: str) -> Path:
    """``--out`` of report and demo: a folder that exists or can be created; checked before any work."""
    out = Path(path)
    if not path or (out.exists() and not out.is_dir()):
        raise ParameterError(f"--out {path!r} must be a folder, not {'empty' if not path else 'an existing file'}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"--out: cannot create folder {path!r}: {exc.strerror or exc}") from None
    return out


def _cmd_demo(args: argparse.Namespace) -> int:
    from .analysis import analyze
    from .datasets import example_path
    from .render import write_report

    out = _check_out_folder(args.out)
    path = example_path()
    data = read_survey(path, "servqual25", respondent_id="respondent_id", outcome="satisfaction", groups=["village", "gender"])
    # analysed once; rendered in every format and both languages
    analysis = analyze(data, seed=2016, input_path=path, progress=_progress(args))
    res = analysis["scores"]
    write_table(res.items, out / "item_scores.csv")
    write_table(res.dimensions.reset_index(), out / "dimension_scores.csv")
    if res.respondents is not None:
        write_table(res.respondents, out / "respondent_scores.csv")
    for t in analysis.tables():
        if t.key in ("item_analysis", "reliability", "cfa_loadings", "compare"):
            write_table(t.frame, out / f"{t.key}.csv")
    subtitle = {"en": "Bundled SYNTHETIC example shaped like Sumino & Sutrischastini (2016): 100 respondents, 12 villages, "
                      "25 items as expectation and perception on a 1-4 scale. Not real respondents.",
                "id": "Data contoh SINTETIS menyerupai Sumino & Sutrischastini (2016): 100 responden, 12 desa, 25 butir "
                      "harapan dan kinerja pada skala 1-4. Bukan responden sebenarnya."}
    paths = write_report(analysis, out, ["html", "docx", "md", "tex"], ["en", "id"], subtitle=subtitle)
    args.strict = False
    status = _report_outcome(args, analysis, [out / "item_scores.csv", *paths])
    sys.stdout.write("the same in a web browser, for your own survey file: servmodels app "
                     "(needs pip install 'servmodels[app]')\n")
    return status


def _cmd_app(args: argparse.Namespace) -> int:
    from .app import serve

    return serve(host=args.host, port=args.port, open_browser=not args.no_browser, max_upload_mb=args.max_upload_mb)


_COMMANDS = {
    "validate": _cmd_validate,
    "score": _cmd_score,
    "items": _cmd_items,
    "cfa": _cmd_cfa,
    "gap-model": _cmd_gap_model,
    "reliability": _cmd_reliability,
    "regress": _cmd_regress,
    "compare": _cmd_compare,
    "bootstrap": _cmd_bootstrap,
    "report": _cmd_report,
    "efa": _cmd_efa,
    "plan": _cmd_plan,
    "omega": _cmd_omega,
    "example": _cmd_example,
    "demo": _cmd_demo,
    "app": _cmd_app,
}


#: Python spellings in messages -> the flags a CLI user types
_SPELLINGS = (
    ("nan_policy='omit'", "--nan-policy omit"),
    ("nan_policy='raise'", "--nan-policy raise"),
    ("nan_policy='fiml'", "--missing fiml"),
    ("missing='fiml'", "--missing fiml"),
    ("missing='listwise'", "--missing listwise"),
    ("estimator='WLSMV'", "--estimator WLSMV"),
    ("estimator='MLR'", "--estimator MLR"),
    ("estimator='ML'", "--estimator ML"),
    ("likelihood='wishart'", "--likelihood wishart"),
    ("cfa(..., --missing fiml)", "cfa --missing fiml"),
    ("strict=True", "--strict"),
    ("std_lv=True", "--std-lv"),
)


def _cli_spelling(message: str) -> str:
    """Messages name options as a Python user writes them; the CLI shows its own flags."""
    for py, flag in _SPELLINGS:
        message = message.replace(py, flag)
    return message


#: longest error line on stderr, "servmodels: error: " included (issue 14: a long message is not read)
MAX_ERROR_LINE = 600
_ERROR_PREFIX = "servmodels: error: "
#: problems named in the error line of a ValidationError; the rest are counted
_PROBLEMS_SHOWN = 5


def _validate_command(args: argparse.Namespace) -> str:
    """``servmodels validate FILE`` with the data options of this call, to see every problem."""
    import shlex

    from ._exceptions import shorten

    opts: list[str] = []
    # the score sets this command read (validate reads all of the instrument's by default)
    scores = getattr(args, "scores", None)
    sets: list[str] | None = None
    if isinstance(scores, list):
        sets = [str(s) for s in scores]
    elif args.command in ("items", "cfa", "reliability", "efa", "regress"):
        try:
            sets = _scores_and_sets(args, extra=("weighted_gap",))[1]
        except ServmodelsError:
            sets = None
    if sets:
        try:
            all_sets = set(get_instrument(getattr(args, "instrument", "servqual25")).score_sets)
        except ServmodelsError:
            all_sets = set()
        if set(sets) != all_sets:
            opts += ["--scores", *sets]
    if getattr(args, "instrument", "servqual25") != "servqual25":
        opts += ["--instrument", args.instrument]
    if getattr(args, "scale", None):
        opts += ["--scale", *map(str, args.scale)]
    for flag, attr in (("--columns", "columns"), ("--id", "respondent_id"), ("--outcome", "outcome"), ("--sheet", "sheet"),
                       ("--reverse", "reverse"), ("--encoding", "encoding"), ("--decimal", "decimal")):
        if getattr(args, attr, None):
            opts += [flag, str(getattr(args, attr))]
    for pair in getattr(args, "map", None) or []:
        opts += ["--map", pair]
    for g in getattr(args, "groups", None) or []:
        opts += ["--group", g]
    if getattr(args, "nan_policy", None) == "omit":
        opts += ["--nan-policy", "omit"]
    file = shlex.quote(str(args.file))
    rest = " ".join(shlex.quote(o) for o in opts)
    if len(file) > 100:
        file = shlex.quote(shorten(str(args.file), 100))
    if len(rest) > 120:
        rest = "... (the same data options)"
    return f"servmodels validate {file}" + (f" {rest}" if rest else "")


def _fit_line(msg: str, budget: int) -> str:
    """Cut a message to ``budget`` characters: long quoted values first, then the end."""
    import re

    from ._exceptions import shorten

    if len(msg) <= budget:
        return msg
    msg = re.sub(r"'[^']{60,}'|\"[^\"]{60,}\"", lambda m: m.group(0)[0] + shorten(m.group(0)[1:-1], 50) + m.group(0)[0], msg)
    return shorten(msg, budget, keep="start")


def _cli_message(exc: ServmodelsError, args: argparse.Namespace) -> str:
    """One line of at most MAX_ERROR_LINE characters with the prefix.

    A ValidationError names its first five problems and counts the rest, saying how
    to see them all; a ParameterError names the flag (``--n-resamples``) instead of
    the keyword; any other long message is cut, long quoted values first.
    """
    from ._exceptions import ValidationError

    budget = MAX_ERROR_LINE - len(_ERROR_PREFIX)
    if isinstance(exc, ValidationError):
        from_file = bool(exc.source) and not str(exc.source).startswith("<") and bool(getattr(args, "file", None))
        if args.command == "validate":
            more = f"all {len(exc.problems)} are listed {'in the JSON ' if getattr(args, 'json', False) else ''}on stdout"
        elif from_file:
            more = f"run `{_validate_command(args)}` for all"
        else:
            more = None
        # the file is named in the validate command at the end when there is one
        show_source = not (from_file and args.command != "validate" and len(exc.problems) > _PROBLEMS_SHOWN)
        hint = f"; {_cli_spelling(exc.hint)}" if exc.hint else ""
        if exc.override:
            msg = exc.override
        else:
            msg = exc.one_line(_PROBLEMS_SHOWN, max_chars=max(budget - len(hint), budget // 2), more=more,
                               rewrite=_cli_spelling, show_source=show_source) + hint
    else:
        msg = str(exc)
    msg = _cli_spelling(" ".join(msg.split()))
    if isinstance(exc, ParameterError):
        word = msg.split(" ", 1)[0].rstrip(":")
        if word in vars(args) and word.isidentifier():
            msg = "--" + word.replace("_", "-") + msg[len(word):]
    return _fit_line(msg, budget)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``servmodels`` console script; returns the exit status."""
    global _gc_paused
    args = build_parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    if argv is None and gc.isenabled():
        # This process is the command (console script, python -m servmodels): importing numpy, pandas
        # and the rest allocates ~10^6 objects, and the collector would traverse them in ~170 collections,
        # about 10 % of a short command (docs/cli.md, Start-up).  Paused until _started().
        gc.disable()
        _gc_paused = True
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = _COMMANDS[args.command](args)
        if not quiet:
            for msg in dict.fromkeys(str(w.message) for w in caught):  # each warning once
                sys.stderr.write(f"servmodels: warning: {_cli_spelling(msg)}\n")
        return EXIT_OK if status is None else int(status)
    except ServmodelsError as exc:
        sys.stdout.flush()  # validate's list of problems on stdout comes before the error line
        sys.stderr.write(f"{_ERROR_PREFIX}{_cli_message(exc, args)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("servmodels: interrupted\n")
        return 130
    except Exception as exc:  # never a raw traceback for users; SERVMODELS_DEBUG=1 shows it
        if os.environ.get("SERVMODELS_DEBUG"):
            raise
        text = _fit_line(" ".join(f"{type(exc).__name__}: {exc}".split()), 400)
        sys.stderr.write(f"servmodels: internal error: {text} (please report it; set SERVMODELS_DEBUG=1 for the traceback)\n")
        return EXIT_INTERNAL
    finally:
        if _gc_paused:  # a command that read no data
            gc.enable()
            _gc_paused = False


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
