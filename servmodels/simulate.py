"""Simulated SERVQUAL surveys from a correlated five-factor model (for examples and tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ._exceptions import ParameterError
from ._params import check_float, check_int
from .instrument import Instrument, get_instrument

__all__ = ["simulate_servqual", "as_generator"]


def as_generator(rng: int | np.random.Generator | np.random.SeedSequence | None) -> np.random.Generator:
    """Turn a seed, SeedSequence or Generator into a Generator (``None`` = fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _norm_cdf(x: np.ndarray | float) -> np.ndarray:
    return 0.5 * special.erfc(-np.asarray(x) / np.sqrt(2.0))


def _shift_for_mean(target: float, cuts: np.ndarray, lo: int, hi: int, sd: float) -> float:
    """Latent mean mu such that E[lo + #(mu + sd Z > cut)] = target (Z standard normal)."""
    eps = 1e-6
    target = float(np.clip(target, lo + eps, hi - eps))

    def f(mu: float) -> float:
        return lo + float(_norm_cdf((mu - cuts) / sd).sum()) - target

    from scipy import optimize  # imported here: scipy.optimize is slow to import

    return float(optimize.brentq(f, -20.0, 20.0, xtol=1e-12))


def _force_sum(values: np.ndarray, latent: np.ndarray, target_sum: int, lo: int, hi: int) -> None:
    """Move answers one step at a time until they sum to target_sum, keeping latent order."""
    diff = target_sum - int(values.sum())
    order = np.argsort(-latent if diff > 0 else latent, kind="stable")
    step = 1 if diff > 0 else -1
    while diff != 0:
        moved = False
        for i in order:
            if (step > 0 and values[i] < hi) or (step < 0 and values[i] > lo):
                values[i] += step
                diff -= step
                moved = True
                if diff == 0:
                    break
        if not moved:
            raise ParameterError("item means: cannot reach the requested item mean within the scale")


def simulate_servqual(
    n_respondents: int = 100,
    *,
    instrument: Instrument | str = "servqual25",
    rng: int | np.random.Generator | None = None,
    item_means: pd.DataFrame | Mapping[str, Any] | None = None,
    exact_means: bool = False,
    loading: float = 0.7,
    factor_correlation: float = 0.5,
    set_correlation: float = 0.4,
    village_sd: float = 0.25,
    villages: Mapping[str, int] | None = None,
    outcome: bool = True,
) -> pd.DataFrame:
    """Draw a synthetic SERVQUAL survey.

    Each score set (E, P, ...) has one latent factor per dimension; factors are
    equicorrelated within a set (``factor_correlation``) and the factor structure
    is ``kron(C_sets, R_dims)``, so a dimension's E and P factors correlate
    ``set_correlation``.  Item ``i`` of dimension ``d`` is
    ``y = loading * f_d + sqrt(1 - loading^2) * e``, cut into the Likert categories
    at equally spaced thresholds shifted to reach the item's target mean.  A
    village random effect (SD ``village_sd``) shifts the perception factors, and
    overall ``satisfaction`` is a noisy function of the mean perception factor
    on the instrument's scale.

    Parameters
    ----------
    n_respondents : int
    instrument : Instrument or str
    rng : int or numpy.random.Generator, optional
        Seed or generator; the same seed gives the same survey.
    item_means : DataFrame or mapping, optional
        Target means: a frame with ``item`` and ``perception``/``expectation``
        (or ``P``/``E``) columns, such as :func:`load_seed_table8`.  Default:
        perception at 60 % of the scale and expectation at 75 %.
    exact_means : bool
        Nudge answers (respecting the latent order) so each item's sample mean is
        the target rounded to ``1/n_respondents``.
    loading, factor_correlation, set_correlation, village_sd : float
        Model parameters.
    villages : mapping of str to int, optional
        Respondents per village; default: the seed's Table 2 proportions.
    outcome : bool
        Add an overall ``satisfaction`` column.

    Returns
    -------
    DataFrame
        ``respondent_id``, ``village``, ``gender``, item columns, ``satisfaction``.

    Examples
    --------
    >>> df = simulate_servqual(50, rng=1)
    >>> df.shape
    (50, 54)
    >>> bool(df.filter(regex="^[EP][0-9]+$").isin([1, 2, 3, 4]).all().all())
    True
    """
    from .datasets import SEED_TABLE2_VILLAGES

    n_respondents = check_int("n_respondents", n_respondents, low=1)
    loading = check_float("loading", loading, low=0.0, high=1.0, low_closed=False, high_closed=False)
    inst = get_instrument(instrument)
    gen = as_generator(rng)
    lo, hi = inst.scale
    n_cat = hi - lo + 1
    sets = inst.score_sets
    dims = inst.dimension_names
    n_dim, n_set = len(dims), len(sets)

    # targets
    targets: dict[str, dict[str, float]] = {}
    default = {"E": 0.75, "P": 0.6, "M": 0.5, "D": 0.85}
    table = None
    if item_means is not None:
        table = pd.DataFrame(item_means)
        table = table.assign(item=table["item"].astype(str)).set_index("item")
    for s in sets:
        col = None
        if table is not None:
            col = next((c for c in (s, inst.set_name(s)) if c in table.columns), None)
        if table is not None and col is not None:
            targets[s] = {i: float(table.at[i, col]) for i in inst.items}  # type: ignore[arg-type]
        else:
            targets[s] = {i: lo + default.get(s, 0.6) * (hi - lo) for i in inst.items}

    # latent factors: kron(C_sets, R_dims) is a valid correlation matrix (Kronecker of PSD matrices)
    r_dims = np.full((n_dim, n_dim), factor_correlation) + (1 - factor_correlation) * np.eye(n_dim)
    c_sets = np.full((n_set, n_set), set_correlation) + (1 - set_correlation) * np.eye(n_set)
    phi = np.kron(c_sets, r_dims)
    factors = gen.standard_normal((n_respondents, n_set * n_dim)) @ np.linalg.cholesky(phi).T

    # villages and gender, as in the seed's Tables 2 and 3 (82 % men)
    counts = dict(villages or SEED_TABLE2_VILLAGES)
    names = list(counts)
    if villages is None and n_respondents == sum(counts.values()):
        village = np.repeat(names, list(counts.values()))
        gen.shuffle(village)
    else:
        p = np.array(list(counts.values()), dtype=float)
        village = gen.choice(names, size=n_respondents, p=p / p.sum())
    n_men = round(0.82 * n_respondents)
    gender = np.array(["male"] * n_men + ["female"] * (n_respondents - n_men))
    gen.shuffle(gender)
    effect = dict(zip(names, gen.normal(0.0, village_sd, len(names))))
    v_shift = np.array([effect[v] for v in village])
    if "P" in sets:
        p0 = sets.index("P") * n_dim
        factors[:, p0 : p0 + n_dim] += v_shift[:, None]

    cuts = np.arange(n_cat - 1) - (n_cat - 2) / 2.0
    unique_sd = np.sqrt(1 - loading**2)
    frame: dict[str, Any] = {
        "respondent_id": [f"R{i + 1:04d}" for i in range(n_respondents)],
        "village": village,
        "gender": gender,
    }
    for si, s in enumerate(sets):
        for d_i, d in enumerate(dims):
            f = factors[:, si * n_dim + d_i]
            for item in inst.dimensions[d]:
                latent = loading * f + unique_sd * gen.standard_normal(n_respondents)
                mu = _shift_for_mean(targets[s][item], cuts, lo, hi, 1.0)
                values = lo + (latent[:, None] + mu > cuts).sum(axis=1)
                if exact_means:
                    _force_sum(values, latent, round(targets[s][item] * n_respondents), lo, hi)
                frame[inst.column(s, item)] = values.astype(np.int64)
    if outcome:
        if "P" in sets:
            p0 = sets.index("P") * n_dim
            drive = factors[:, p0 : p0 + n_dim].mean(axis=1)
        else:
            drive = factors.mean(axis=1)
        latent = (drive - drive.mean()) / max(drive.std(), 1e-12) * 0.7 + np.sqrt(1 - 0.49) * gen.standard_normal(n_respondents)
        mu = _shift_for_mean(lo + 0.65 * (hi - lo), cuts, lo, hi, 1.0)
        frame["satisfaction"] = (lo + (latent[:, None] + mu > cuts).sum(axis=1)).astype(np.int64)
    return pd.DataFrame(frame)
