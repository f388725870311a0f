"""Screenshots of the bundled example's HTML report for the documentation.

    python docs/screenshots.py [--out docs/img] [--height 2500] [--n-resamples N]

Analyses the example survey once (every analysis, outcome ``satisfaction``, respondents by
``gender``, seed 3, the default resamples), writes the English and Indonesian HTML reports,
opens each in headless Chromium 1280 pixels wide and saves the top ``--height`` pixels of the
page as ``report_en.png`` and ``report_id.png``.  Needs the ``browser`` extra (Playwright) and
an installed Chromium (``apt-get install chromium``; Playwright's own download is not used);
``make screenshots`` sets both up.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

WIDTH = 1280
MAX_BYTES = 600_000


def find_chromium() -> str:
    """Debian's chromium binary (its /usr/bin/chromium is a shell wrapper), or ``$CHROMIUM``."""
    for path in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if path and Path(path).is_file():
            return path
    raise SystemExit("no chromium: apt-get install chromium, or set CHROMIUM=/path/to/chrome")


def _small_png(png: bytes) -> bytes:
    """The screenshot as it is, or with a 256-colour palette when it is over MAX_BYTES (text stays sharp)."""
    if len(png) <= MAX_BYTES:
        return png
    from PIL import Image  # matplotlib's dependency

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "img", help="folder [docs/img]")
    parser.add_argument("--height", type=int, default=2500, help="pixels from the top of the page [2500]")
    parser.add_argument("--n-resamples", type=int, default=None, help="resamples of every bootstrap [the defaults]")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    import servmodels as sm
    from servmodels.render import write_report

    data = sm.read_survey(sm.example_path(), outcome="satisfaction", groups=["gender"])
    analysis = sm.analyze(data, seed=3, n_resamples=args.n_resamples)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        write_report(analysis, tmp, ["html"], ["en", "id"])
        browser = p.chromium.launch(executable_path=find_chromium())
        page = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
        for lang, name in (("en", "report.html"), ("id", "report_id.html")):
            page.goto((Path(tmp) / name).as_uri(), wait_until="load")
            full = page.evaluate("document.documentElement.scrollHeight")
            png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": min(args.height, full)})
            target = args.out / f"report_{lang}.png"
            target.write_bytes(_small_png(png))
            print(f"{target}: {WIDTH} x {min(args.height, full)} of {full} px, {target.stat().st_size // 1000} kB")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
