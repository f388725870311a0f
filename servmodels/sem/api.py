"""``cfa``: data and model in, one estimator looked up by name, one result out."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._exceptions import ModelSpecificationError, NumericalError, ParameterError, Problem, ValidationError
from .._params import check_choice, check_int, check_type
from ..data import SurveyData
from ..instrument import Instrument
from .estimator import SampleData, get_estimator
from .ml import moments_from_cov
from .options import SEMOptions, resolve_options
from .result import CFAResult, build_result
from .specification import GROUP_EQUAL_TYPES, build_spec

__all__ = ["cfa", "instrument_model", "model_data"]

Structure = Literal["correlated", "one_factor", "second_order"]


def instrument_model(instrument: Instrument, *, scores: str | None = None, structure: Structure = "correlated",
                     general_factor: str = "service_quality") -> str:
    """lavaan syntax of the instrument's measurement model.

    ``"correlated"``: one factor per dimension (named by the dimension), factors
    correlated; ``"one_factor"``: all items on ``general_factor``;
    ``"second_order"``: dimension factors loading on ``general_factor``.
    Indicators are the item columns (``P1`` ...) or gap items (``gap1`` ...).

    Examples
    --------
    >>> from servmodels import get_instrument
    >>> print(instrument_model(get_instrument("servqual22"), structure="second_order").splitlines()[-1])
    service_quality =~ tangibles + reliability + responsiveness + assurance + empathy
    """
    structure = check_choice("structure", structure, ("correlated", "one_factor", "second_order"))
    if scores is None:
        scores = instrument.default_scores()
    code = instrument.set_code(scores)

    def col(item: str) -> str:
        return instrument.column(code, item) if code is not None else f"{scores}{item}"

    if structure == "one_factor":
        return f"{general_factor} =~ " + " + ".join(col(i) for i in instrument.items)
    lines = [f"{d} =~ " + " + ".join(col(i) for i in items) for d, items in instrument.dimensions.items()]
    if structure == "second_order":
        lines.append(f"{general_factor} =~ " + " + ".join(instrument.dimension_names))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- data for a model
def _frame_from(data: Any, scores: str) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, int, tuple[int, ...]]:
    """(item frame, group source, 1-based source rows, respondents dropped before, their rows)."""
    if isinstance(data, SurveyData):
        arr = data.item_scores(scores)
        frame = pd.DataFrame(arr.astype(np.float64), columns=list(data.item_columns(scores)))
        return frame, data.groups, np.asarray(data.rows), data.n_dropped, tuple(data.dropped_rows)
    if isinstance(data, pd.DataFrame):
        return data, data, np.arange(1, len(data) + 1), 0, ()
    raise ParameterError(f"data must be SurveyData (from read_survey) or a pandas DataFrame; got {type(data).__name__}")


def _numeric_block(frame: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    """Numeric values of the model's observed variables (NaN for missing); text is an error."""
    missing_cols = [c for c in cols if c not in frame.columns]
    if missing_cols:
        raise ModelSpecificationError(
            "unknown variable(s) in the model, not columns of the data: " + ", ".join(missing_cols)
        )
    out = np.empty((len(frame), len(cols)))
    problems = []
    for j, c in enumerate(cols):
        s = frame[c]
        if isinstance(s, pd.DataFrame):
            raise ValidationError([Problem("duplicate_column", c, "the column name appears more than once")], "<cfa data>")
        if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
            out[:, j] = s.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            conv = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
            text = np.isnan(conv) & s.notna().to_numpy()
            if text.any():
                hit = np.flatnonzero(text)
                problems.append(Problem("non_numeric", c, "non-numeric values", tuple(int(h) + 1 for h in hit[:5]), int(hit.size)))
            out[:, j] = conv
    if problems:
        raise ValidationError(problems, "<cfa data>")
    bad = ~np.isfinite(out) & ~np.isnan(out)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        hit = np.flatnonzero(bad[:, j])
        raise ValidationError([Problem("non_numeric", cols[j], "infinite values", tuple(int(h) + 1 for h in hit[:5]), int(hit.size))], "<cfa data>")
    return out


def _cluster_ids(data: Any, gsource: pd.DataFrame, rows: np.ndarray, cluster: str) -> np.ndarray:
    """The cluster column; a column that is absent or has missing ids is an error naming the rows."""
    if cluster not in gsource.columns:
        hint = " (read the data with groups=[...] naming it)" if isinstance(data, SurveyData) else ""
        raise ModelSpecificationError(f"cluster column {cluster!r} not found{hint}")
    ids = gsource[cluster]
    if isinstance(ids, pd.DataFrame):
        raise ValidationError([Problem("duplicate_column", cluster, "the column name appears more than once")], "<cfa data>")
    ids = ids.to_numpy()
    if pd.isna(ids).any():
        hit = np.flatnonzero(pd.isna(ids))
        raise ValidationError([Problem("missing_value", cluster, "missing cluster ids (every respondent needs "
                                       "a cluster)", tuple(int(rows[h]) for h in hit[:5]), int(hit.size))], "<cfa data>")
    return ids


def model_data(data: Any, cols: Sequence[str], *, scores: str = "P", group: str | None = None,
               missing: str = "listwise", nan_policy: str | None = None, cluster: str | None = None) -> dict[str, Any]:
    """Rows of the model's variables per group after the missing-data rule.

    ``missing="listwise"`` keeps complete rows (``nan_policy="raise"`` refuses
    incomplete ones instead); ``"fiml"`` keeps every row with at least one answer.
    Returns ``blocks`` (one array per group), ``labels``, ``n_dropped`` and
    ``dropped_rows`` (1-based rows of the input, including those dropped when it
    was read); with ``cluster`` also ``clusters``: per group the cluster of each
    kept row as codes 0 .. C - 1 (at least two clusters per group).
    """
    frame, gsource, rows, n_before, rows_before = _frame_from(data, scores)
    values = _numeric_block(frame, cols)
    cids = _cluster_ids(data, gsource, rows, cluster) if cluster is not None else None
    if group is not None:
        if group not in gsource.columns:
            hint = " (read the data with groups=[...] naming it)" if isinstance(data, SurveyData) else ""
            raise ModelSpecificationError(f"group column {group!r} not found{hint}")
        gvals = gsource[group].to_numpy()
        if pd.isna(gvals).any():
            hit = np.flatnonzero(pd.isna(gvals))
            raise ValidationError([Problem("missing_value", group, "missing group values", tuple(int(rows[h]) for h in hit[:5]), int(hit.size))], "<cfa data>")
        labels = list(pd.unique(gvals))
    else:
        gvals = None
        labels = ["1"]
    miss = np.isnan(values)
    if missing == "fiml":
        keep = ~miss.all(axis=1)  # a respondent with no answer at all carries no information
    else:
        keep = ~miss.any(axis=1)
        if nan_policy == "raise" and not keep.all():
            probs = []
            for j, c in enumerate(cols):
                hit = np.flatnonzero(miss[:, j])
                if hit.size:
                    probs.append(Problem("missing_value", c, "missing values (use nan_policy='omit' to drop these "
                                         "respondents, or missing='fiml' to use every answer)",
                                         tuple(int(rows[h]) for h in hit[:5]), int(hit.size)))
            raise ValidationError(probs, "<cfa data>")
    dropped = tuple(int(r) for r in rows[~keep])
    blocks = []
    clusters: list[np.ndarray] = []
    for lab in labels:
        sel = keep if gvals is None else keep & (gvals == lab)
        if int(sel.sum()) < 2:
            what = f"group {lab!r}" if gvals is not None else "the data"
            raise ValidationError([Problem("too_few", group, f"{what} has {int(sel.sum())} usable respondent(s) "
                                           f"after {'dropping empty rows' if missing == 'fiml' else 'listwise deletion'}; "
                                           "a factor model needs many more")], "<cfa data>")
        blocks.append(values[sel])
        if cids is not None:
            codes, uniq = pd.factorize(cids[sel])
            if len(uniq) < 2:
                what = f"group {lab!r}" if gvals is not None else "the data"
                raise ValidationError([Problem("too_few", cluster, f"{what} has {len(uniq)} cluster(s) "
                                               f"({', '.join(map(str, uniq[:1]))}) among the respondents used; "
                                               "cluster-robust standard errors need at least two")], "<cfa data>")
            clusters.append(codes.astype(np.intp))
    out = {"blocks": blocks, "labels": [str(v) for v in labels], "n_dropped": n_before + len(dropped),
           "dropped_rows": tuple(sorted(rows_before + dropped))}
    if cids is not None:
        out["clusters"] = clusters
    return out


def _starts_from(spec: Any, previous: CFAResult) -> None:
    """Starting values of ``spec``'s free parameters from the estimates of a previous fit (lavaan ``start = fit``)."""
    check_type("start", previous, CFAResult, "a CFAResult (a previous fit)")
    p = previous.parameters
    est = {(a, o, b, str(g)): float(v) for a, o, b, g, v in zip(p["lhs"], p["op"], p["rhs"], p["group"], p["estimate"])}
    for r in spec.rows:
        if r.free and r.start is None:
            v = est.get((r.lhs, r.op, r.rhs, str(spec.group_labels[r.group])))
            if v is not None and np.isfinite(v):
                r.start = v


def _run(cls: Any, opts: SEMOptions, spec: Any, sample: SampleData) -> Any:
    """Fit, translating numerical failures into NumericalError (never a raw LinAlgError).

    One BLAS thread: threads slow products of this size down and stall under load (servmodels._threads).
    """
    from .._threads import single_threaded_blas

    try:
        with single_threaded_blas():
            return cls(opts).fit(spec, sample)
    except np.linalg.LinAlgError as exc:
        raise NumericalError(f"the {opts.label} fit met a singular matrix ({exc}): the model may not be "
                             "identified for these data, or some items are (nearly) collinear") from None


# ----------------------------------------------------------------------------- public API
def cfa(
    data: SurveyData | pd.DataFrame | None = None,
    model: str | None = None,
    *,
    options: SEMOptions | dict[str, Any] | None = None,
    scores: str | None = None,
    structure: Structure = "correlated",
    group: str | None = None,
    group_equal: Sequence[str] = (),
    estimator: Literal["ML", "MLR", "WLSMV"] | None = None,
    missing: Literal["listwise", "fiml"] | None = None,
    likelihood: Literal["normal", "wishart"] | None = None,
    std_lv: bool | None = None,
    confidence_level: float | None = None,
    strict: bool | None = None,
    cluster: str | None = None,
    meanstructure: bool | None = None,
    sample_cov: np.ndarray | pd.DataFrame | Sequence[np.ndarray | pd.DataFrame] | None = None,
    sample_mean: np.ndarray | Sequence[np.ndarray] | None = None,
    n_obs: int | Sequence[int] | None = None,
    nan_policy: Literal["raise", "omit"] | None = None,
    instrument: Instrument | str | None = None,
    scale: tuple[int, int] | None = None,
    reverse: Sequence[str] | str | None = None,
    start: CFAResult | None = None,
) -> CFAResult:
    """Fit a confirmatory factor model (lavaan ``cfa`` equivalent).

    Parameters
    ----------
    data : SurveyData, DataFrame or path, optional
        Raw data.  With ``SurveyData`` and no ``model`` the instrument's model is
        fitted to ``scores``; with a DataFrame any numeric columns named in the
        model are used (no Likert checks).  A file path, or a DataFrame with
        ``instrument=`` given, is read and validated as by :func:`read_survey`
        (incomplete respondents kept for ``missing="fiml"``, else dropped as
        ``nan_policy`` says).
    model : str, optional
        lavaan model syntax.
    options : SEMOptions or dict, optional
        Estimator, missing-data method, likelihood, ``std_lv``, confidence level and
        strictness in one object (see :class:`SEMOptions`); the same object can be
        passed to ``measurement_invariance``, ``validity``,
        ``compare_servqual_servperf`` and the report.  The keywords ``estimator``,
        ``missing``, ``likelihood``, ``std_lv``, ``confidence_level`` and ``strict``
        set single options instead.
    scores : str, optional
        ``"P"``, ``"E"``, ``"gap"`` or a custom score set for instrument models;
        default: the instrument's only set, else ``"P"``.
    structure : {"correlated", "one_factor", "second_order"}
        Instrument model (see :func:`instrument_model`).
    group : str, optional
        Grouping column for a multi-group model.
    cluster : str, optional
        Column of cluster ids, e.g. ``"village"`` (lavaan ``cluster =``):
        cluster-robust standard errors and scaled test, same estimates (see
        :class:`SEMOptions`); a SurveyData must have been read with the column in
        ``groups``.  The result records ``n_clusters``.
    group_equal : sequence of str
        Equal across groups: any of ``loadings, intercepts, residuals,
        residual.covariances, lv.variances, lv.covariances, means, regressions``.
    meanstructure : bool, optional
        Model means; default True for multi-group models and FIML, else False.
    sample_cov, sample_mean, n_obs :
        Covariance matrix (unbiased, divisor n - 1, as R's ``cov``) and n instead
        of raw data; lists for several groups.  ``sample_cov`` may be a DataFrame
        whose labels name the variables.  ML only.
    nan_policy : {"raise", "omit"}, optional
        With ``missing="listwise"``: ``"raise"`` refuses respondents with missing
        answers; ``"omit"`` or None (the default, as lavaan) drops them.  Dropped
        respondents are counted in ``n_dropped`` and listed in ``dropped_rows``.
    instrument, scale, reverse : optional
        How to read a path or DataFrame as survey data (see :func:`read_survey`).
    start : CFAResult, optional
        Starting values from a previous fit (lavaan ``start = fit``): every free
        parameter with the same ``lhs, op, rhs, group`` starts at its estimate there;
        the others get the usual starting values.  Nested invariance steps converge in
        fewer iterations to the same optimum.

    Returns
    -------
    CFAResult

    Examples
    --------
    >>> from servmodels import read_survey, load_example
    >>> res = cfa(read_survey(load_example()), scores="P")
    >>> res.fit["df"]
    265.0
    >>> res.parameters.query("op == '=~'")["lhs"].unique().tolist()
    ['tangibles', 'reliability', 'responsiveness', 'assurance', 'empathy']
    >>> cfa(read_survey(load_example()), options=SEMOptions(estimator="MLR")).fit["chisq_scaled"] > 0
    True
    >>> clustered = cfa(read_survey(load_example(), groups=["village"]), estimator="MLR", cluster="village")
    >>> clustered.n_clusters
    12
    """
    opts = resolve_options(options, estimator=estimator, missing=missing, likelihood=likelihood, std_lv=std_lv,
                           confidence_level=confidence_level, strict=strict, cluster=cluster)
    if nan_policy is not None:
        nan_policy = check_choice("nan_policy", nan_policy, ("raise", "omit"))
    if data is None and sample_cov is None:
        raise ParameterError("give raw data, or sample_cov with n_obs")
    if isinstance(data, (str, os.PathLike)) or (isinstance(data, pd.DataFrame) and instrument is not None):
        from .._inputs import DEFAULT_SCORES, as_survey

        data = as_survey(data, scores=scores or DEFAULT_SCORES, instrument=instrument, scale=scale, reverse=reverse,
                         groups=[c for c in (group, opts.cluster) if c] or None, nan_policy="fiml")
    elif instrument is not None or scale is not None or reverse is not None:
        raise ParameterError("instrument, scale, reverse: these reading options apply to a file path or a DataFrame")
    if isinstance(data, SurveyData) and scores is None:
        scores = data.instrument.default_scores()
    if model is None:
        if not isinstance(data, SurveyData):
            raise ModelSpecificationError("a model is required unless data is SurveyData (instrument model)")
        model = instrument_model(data.instrument, scores=scores, structure=structure)
    check_type("model", model, str, "lavaan model syntax (a str)")
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    group_equal = tuple(group_equal)
    unknown = [g for g in group_equal if g not in GROUP_EQUAL_TYPES]
    if unknown:
        raise ParameterError(f"group_equal: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(GROUP_EQUAL_TYPES)}")
    if group is not None:
        check_type("group", group, str, "a column name (str)")

    if sample_cov is not None:
        covs = list(sample_cov) if isinstance(sample_cov, (list, tuple)) else [sample_cov]
        cls = get_estimator(opts, n_groups=len(covs), raw=False)
        ns = list(n_obs) if isinstance(n_obs, (list, tuple)) else ([n_obs] if n_obs is not None else [])
        if len(ns) != len(covs) or any(n is None for n in ns):
            raise ParameterError("n_obs must give the sample size of every covariance matrix")
        means = list(sample_mean) if isinstance(sample_mean, (list, tuple)) else [sample_mean] * len(covs)
        ms = bool(meanstructure) if meanstructure is not None else len(covs) > 1
        spec = build_spec(model, n_groups=len(covs), std_lv=opts.std_lv, meanstructure=ms, group_equal=group_equal)
        if start is not None:
            _starts_from(spec, start)
        moments = []
        for c, mn, n in zip(covs, means, ns):
            if isinstance(c, pd.DataFrame):
                absent = [v for v in spec.ov if v not in c.columns or v not in c.index]
                if absent:
                    raise ModelSpecificationError("unknown variable(s) in the model, not in sample_cov: " + ", ".join(absent))
                c = c.loc[spec.ov, spec.ov].to_numpy()
            c = np.asarray(c, float)
            if c.shape != (spec.p, spec.p):
                raise ParameterError(f"sample_cov must be {spec.p} x {spec.p} in the order {', '.join(spec.ov)}; got shape {c.shape}")
            if not np.all(np.isfinite(c)) or not np.allclose(c, c.T):
                raise ParameterError("sample_cov must be a finite symmetric matrix")
            if ms and mn is None:
                raise ParameterError("a mean structure needs sample_mean")
            n = check_int("n_obs", n, low=2)
            mean_vec = None if mn is None else np.asarray(mn.loc[spec.ov] if isinstance(mn, pd.Series) else mn, float)
            moments.append(moments_from_cov(c, mean_vec, int(n), opts.likelihood, names=spec.ov))
        fit = _run(cls, opts, spec, SampleData(moments=moments))
        return build_result(fit, model=model, options=opts)

    if not isinstance(data, (SurveyData, pd.DataFrame)):
        raise ParameterError(f"data must be SurveyData (from read_survey) or a pandas DataFrame; got {type(data).__name__}")
    # the observed variables, before the groups are known; a name that is neither a factor nor a
    # column is reported with its line
    if isinstance(data, pd.DataFrame):
        columns: list[str] | None = [str(c) for c in data.columns]
    else:  # an unknown score set is reported by model_data
        known = scores in data.responses or scores in data.instrument.gaps
        columns = list(data.item_columns(scores)) if known else None
    probe = build_spec(model, observed=columns)
    md = model_data(data, probe.ov, scores=scores, group=group, missing=opts.missing, nan_policy=nan_policy,
                    cluster=opts.cluster)
    cls = get_estimator(opts, n_groups=len(md["labels"]))
    ms = bool(meanstructure) if meanstructure is not None else group is not None
    if cls.needs_meanstructure:
        if meanstructure is False:
            raise ParameterError(f"meanstructure=False: {opts.label} always models the means (as lavaan)")
        ms = True
    spec = build_spec(model, n_groups=len(md["labels"]), group_labels=md["labels"], std_lv=opts.std_lv,
                      meanstructure=ms, group_equal=group_equal)
    if start is not None:
        _starts_from(spec, start)
    fit = _run(cls, opts, spec, SampleData(blocks=md["blocks"], clusters=md.get("clusters")))
    res = build_result(fit, model=model, options=opts, n_dropped=md["n_dropped"], dropped_rows=md["dropped_rows"])
    if isinstance(data, SurveyData) and data.instrument.reverse:
        res._record_reverse(data.instrument)
    return res
