"""Bundled data: the seed study's published item means and a synthetic example survey."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["load_example", "load_seed_table8", "example_path", "SEED_TABLE2_VILLAGES"]

#: Respondents per village, Table 2 of Sumino & Sutrischastini (2016)
SEED_TABLE2_VILLAGES: dict[str, int] = {
    "Kebon Dalem": 9,
    "Pucang": 9,
    "Winong": 8,
    "Serang": 8,
    "Kutayasa": 8,
    "Bandingan": 8,
    "Blambangan": 8,
    "Majalengka": 8,
    "Bawang": 8,
    "Wanadri": 9,
    "Masaran": 9,
    "Mantrianom": 8,
}


def _path(name: str) -> Path:
    return Path(str(resources.files(__package__).joinpath(name)))


def example_path() -> Path:
    """Path of the bundled synthetic example CSV (for the CLI: ``servmodels score $(...)``)."""
    return _path("bawang_synthetic.csv")


def load_example() -> pd.DataFrame:
    """A SYNTHETIC survey shaped like the seed study (not real respondents).

    100 respondents in the 12 villages of the seed's Table 2 (82 men, 18 women),
    25 items answered as expectation ``E1..E25`` and perception ``P1..P25`` on a
    1-4 scale, and an overall ``satisfaction`` rating (1-4).  Drawn by
    :func:`servmodels.simulate_servqual` with ``rng=2016`` from a five-factor model
    and calibrated so every item mean equals the seed's Table 8 exactly.

    Examples
    --------
    >>> df = load_example()
    >>> df.shape
    (100, 54)
    >>> float(df["P7"].mean()), float(df["E7"].mean())   # Table 8, item 7
    (2.12, 3.5)
    """
    return pd.read_csv(example_path())


def load_seed_table8() -> pd.DataFrame:
    """Item means of perception (Kinerja) and expectation (Harapan), Table 8 of the seed.

    Columns: ``item``, ``dimension``, ``perception``, ``expectation``, ``gap`` (as
    printed), ``question`` (wording, Indonesian).  Source: Sumino & Sutrischastini
    (2016), "Kepuasan masyarakat terhadap pelayanan Polisi Sektor Bawang
    Kabupaten Banjarnegara", Table 8; n = 100.

    Examples
    --------
    >>> t8 = load_seed_table8()
    >>> int(t8.loc[16, "item"]), float(t8.loc[16, "perception"]), float(t8.loc[16, "expectation"])
    (17, 2.95, 3.66)
    """
    return pd.read_csv(_path("seed_table8.csv"))
