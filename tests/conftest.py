import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

REF = Path(__file__).parent / "reference"

settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


@pytest.fixture(scope="session")
def psych_ref() -> dict:
    return json.loads((REF / "psych_alpha.json").read_text())


@pytest.fixture(scope="session")
def ref_data():
    def load(name: str) -> pd.DataFrame:
        return pd.read_csv(REF / "data" / f"{name}.csv")

    return load


@pytest.fixture()
def example_df() -> pd.DataFrame:
    from servmodels import load_example

    return load_example()


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return REF
