"""What a user has -> SurveyData: every estimator accepts a SurveyData, a pandas DataFrame
or a file path, with the reading keywords (``instrument=``, ``scale=``, ``nan_policy=``,
``groups=``, ``outcome=``) given to the estimator itself.

``survey_input`` wraps an estimator: it takes those keywords off the call, reads and
validates the data exactly as :func:`servmodels.read_survey` does (so validation runs
the same way whatever the input), and passes a SurveyData on.  A SurveyData is used as
it is; giving reading keywords with it is an error (it was validated already).
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

from ._exceptions import ParameterError
from ._results import Result
from .data import SurveyData

__all__ = ["as_survey", "survey_input", "READ_KEYWORDS"]

F = TypeVar("F", bound=Callable[..., Any])

#: keywords an estimator passes to read_survey when it is given a DataFrame or a path
READ_KEYWORDS = ("instrument", "scale", "nan_policy", "groups", "outcome", "respondent_id", "sheet", "score_sets",
                 "reverse", "encoding", "decimal", "check_keys")

#: ``scores=`` left to the instrument's default (its only set, else P)
DEFAULT_SCORES = "<default>"


def _needed_sets(instrument: Any, scores: str | None) -> list[str] | None:
    """Score sets a ``scores=`` value needs in the file (others are not required), or None for all."""
    if scores is None:
        return None
    if scores == DEFAULT_SCORES:
        try:
            return [instrument.default_scores()]
        except ParameterError:
            return None
    gaps = {g.lower(): ab for g, ab in instrument.gaps.items()}
    if str(scores).lower() in gaps:
        return list(gaps[str(scores).lower()])
    code = instrument.set_code(scores)
    return [code] if code is not None else None


def as_survey(data: Any, *, what: str = "data", scores: str | None = None, **read: Any) -> SurveyData:
    """A SurveyData from a SurveyData, a DataFrame or a path (read with ``read`` keywords).

    Examples
    --------
    >>> from servmodels import load_example
    >>> as_survey(load_example(), scale=(1, 4)).n_respondents
    100
    """
    given = {k: v for k, v in read.items() if v is not None}
    if isinstance(data, SurveyData):
        if given:
            raise ParameterError(
                f"{', '.join(sorted(given))}: these reading options apply to a DataFrame or a file; "
                f"{what} is already validated SurveyData (pass them to read_survey instead)"
            )
        return data
    if isinstance(data, (pd.DataFrame, str, os.PathLike)):
        from .instrument import get_instrument
        from .io import read_survey

        instrument = get_instrument(given.pop("instrument", "servqual25"))
        if isinstance(given.get("groups"), str):
            given["groups"] = [given["groups"]]
        if "score_sets" not in given:
            needed = _needed_sets(instrument, scores)
            if needed is not None:
                given["score_sets"] = needed
        return read_survey(data, instrument, **given)
    raise ParameterError(
        f"{what} must be SurveyData (from read_survey), a pandas DataFrame or a file path; got {type(data).__name__}"
    )


def survey_input(func: F) -> F:
    """Decorator: the first argument may be SurveyData, a DataFrame or a path.

    The reading keywords (:data:`READ_KEYWORDS`) are accepted by the wrapped
    function and used only to read a DataFrame or a file.
    """
    sig = inspect.signature(func)
    has_scores = "scores" in sig.parameters
    scores_default = sig.parameters["scores"].default if has_scores else None

    @functools.wraps(func)
    def wrapper(data: Any, *args: Any, **kwargs: Any) -> Any:
        read = {k: kwargs.pop(k) for k in READ_KEYWORDS if k in kwargs}
        cluster = kwargs.get("cluster")
        if isinstance(cluster, str) and not isinstance(data, SurveyData):
            # cluster= (cfa, regress, compare, bootstrap) names a column to read with the answers
            groups = read.get("groups")
            groups = [groups] if isinstance(groups, str) else list(groups or [])
            read["groups"] = groups + [cluster] if cluster not in groups else groups
        scores = kwargs.get("scores", scores_default) if has_scores else None
        wanted = DEFAULT_SCORES if has_scores and scores is None else scores if isinstance(scores, str) else None
        data = as_survey(data, what="data", scores=wanted, **read)
        if has_scores and scores is None:
            # the instrument's own default: its only score set, else perception P
            kwargs["scores"] = data.instrument.default_scores()
        result = func(data, *args, **kwargs)
        if isinstance(result, Result) and data.instrument.reverse:
            result._record_reverse(data.instrument)
        return result

    params = list(sig.parameters.values())
    extra = [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=None) for k in READ_KEYWORDS
             if k not in sig.parameters]
    # keyword-only parameters go before **kwargs, if any
    tail = [p for p in params if p.kind is inspect.Parameter.VAR_KEYWORD]
    head = [p for p in params if p.kind is not inspect.Parameter.VAR_KEYWORD]
    wrapper.__signature__ = sig.replace(parameters=head + extra + tail)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
