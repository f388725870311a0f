import json
import os
import shutil
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


def _chromium() -> str:
    """Debian's chromium binary (its /usr/bin/chromium wrapper only adds flags; Playwright talks to the binary)."""
    for path in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if path and Path(path).is_file():
            return path
    pytest.fail("no chromium: `apt-get install chromium` (or set CHROMIUM=/path/to/chrome); `make test-browser` does it")


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by Playwright, one per test module (the tests marked ``browser``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[browser]' (`make test-browser` does it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium())
        yield b
        b.close()
