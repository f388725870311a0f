"""Screenshots of the bundled example's report in every format, for the documentation.

    python docs/screenshots.py [--out docs/img] [--height 2500] [--n-resamples N] [--formats html,md,docx,tex]

Analyses the example survey once (every analysis, outcome ``satisfaction``, respondents by
``gender``, seed 3, the default resamples), writes the reports and renders each format the way a
reader sees it:

* HTML (``report_en.png``, ``report_id.png``): the page itself in headless Chromium, 1280 pixels wide,
  the top ``--height`` pixels;
* Markdown (``report_md.png``): ``report.md`` turned into HTML by markdown-it-py (CommonMark with
  tables, as GitHub and most Markdown viewers show it) and opened in the same browser;
* Word (``report_docx.png``): ``report.docx`` converted to PDF by LibreOffice (``soffice --headless``)
  and its first two pages rasterised by poppler's ``pdftoppm``, side by side;
* LaTeX (``report_tex.png``): ``report.tex`` compiled by ``pdflatex`` and its first two pages
  rasterised by ``pdftoppm``, side by side.

Needs the ``browser`` extra (Playwright, markdown-it-py) and Debian's ``chromium``,
``libreoffice-writer-nogui``, ``poppler-utils``, ``texlive-latex-recommended`` and ``lmodern``;
``make screenshots`` sets them up (with Caladea and Carlito, the fonts metric-compatible with Word's
Cambria and Calibri, so that LibreOffice lays the Word file out as Word does).  ``tests/test_report_browser.py`` runs the same functions.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

WIDTH = 1280
MAX_BYTES = 600_000
FORMATS = ("html", "md", "docx", "tex")
#: resolution of the rasterised PDF pages (dots per inch): an A4 page is 827 x 1169 pixels at 100
DPI = 100

#: a plain GitHub-like style for the Markdown rendering
_MD_CSS = """
body { font: 16px/1.5 -apple-system, 'Segoe UI', 'Liberation Sans', Helvetica, Arial, sans-serif;
       color: #1f2328; max-width: 980px; margin: 24px auto; padding: 0 32px; }
h1, h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; }
table { border-collapse: collapse; margin: 0 0 16px; display: block; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
tr:nth-child(2n) { background: #f6f8fa; }
img { max-width: 100%; }
code { background: #eff1f3; padding: .2em .4em; border-radius: 6px; font-size: 85%; }
"""


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


def _need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(f"no {tool}: apt-get install {package}")
    return path


def markdown_page(md_file: Path) -> Path:
    """``report.md`` as a standalone HTML page beside it (so its ``figures/`` resolve)."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(md_file.read_text(encoding="utf-8"))
    page = md_file.with_name(md_file.stem + "_md_preview.html")
    page.write_text(f'<!doctype html><html><head><meta charset="utf-8"><title>{md_file.name}</title>'
                    f"<style>{_MD_CSS}</style></head><body>{body}</body></html>", encoding="utf-8")
    return page


def _pdf_pages(pdf: Path, pages: int = 2) -> bytes:
    """The first ``pages`` pages of ``pdf`` side by side on a grey background, as PNG bytes."""
    from PIL import Image

    prefix = pdf.with_name(f"{pdf.stem}_page")
    subprocess.run([_need("pdftoppm", "poppler-utils"), "-png", "-r", str(DPI), "-f", "1", "-l", str(pages),
                    str(pdf), str(prefix)], check=True, capture_output=True)
    images = [Image.open(p).convert("RGB") for p in sorted(pdf.parent.glob(prefix.name + "-*.png"))]
    if not images:
        raise RuntimeError(f"pdftoppm rendered no page of {pdf}")
    gap = 16
    sheet = Image.new("RGB", (sum(i.width for i in images) + gap * (len(images) + 1),
                              max(i.height for i in images) + 2 * gap), (200, 200, 200))
    x = gap
    for image in images:
        sheet.paste(image, (x, gap))
        x += image.width + gap
    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()


def docx_pdf(docx: Path) -> Path:
    """``docx`` converted to PDF by LibreOffice, in a folder ``docx-pdf`` beside it."""
    soffice = _need("soffice", "libreoffice-writer-nogui")
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-"))
    try:
        subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(docx.parent / "docx-pdf"), str(docx)], check=True, capture_output=True,
                       timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return docx.parent / "docx-pdf" / docx.with_suffix(".pdf").name


def tex_pdf(tex: Path) -> Path:
    """``tex`` compiled by pdflatex (twice, for the table numbers), beside it."""
    pdflatex = _need("pdflatex", "texlive-latex-recommended lmodern")
    for _ in range(2):
        subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tex.parent,
                       check=True, capture_output=True, timeout=300)
    return tex.with_suffix(".pdf")


def shoot(report_dir: Path, out: Path, formats: tuple[str, ...] = FORMATS, height: int = 2500,
          browser: Any = None) -> dict[str, Path]:
    """Render the reports in ``report_dir`` (written by ``write_report``) into PNG files in ``out``.

    ``browser`` is a running Playwright Chromium to use (else one is started and closed here).
    Returns ``{name: path}`` for each PNG written (``report_en``, ``report_id``, ``report_md``,
    ``report_docx``, ``report_tex``).
    """
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def save(name: str, png: bytes) -> None:
        target = out / f"{name}.png"
        target.write_bytes(_small_png(png))
        written[name] = target

    pages = []
    if "html" in formats:
        pages += [("report_en", report_dir / "report.html"), ("report_id", report_dir / "report_id.html")]
    if "md" in formats:
        pages.append(("report_md", markdown_page(report_dir / "report.md")))
    def pictures(browser: Any) -> None:
        page = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=1)
        for name, path in pages:
            page.goto(path.as_uri(), wait_until="load")
            full = page.evaluate("document.documentElement.scrollHeight")
            save(name, page.screenshot(full_page=True,
                                       clip={"x": 0, "y": 0, "width": WIDTH, "height": min(height, full)}))
        page.close()

    if pages and browser is not None:
        pictures(browser)
    elif pages:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            own = p.chromium.launch(executable_path=find_chromium())
            pictures(own)
            own.close()
    if "docx" in formats:
        save("report_docx", _pdf_pages(docx_pdf(report_dir / "report.docx")))
    if "tex" in formats:
        save("report_tex", _pdf_pages(tex_pdf(report_dir / "report.tex")))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "img", help="folder [docs/img]")
    parser.add_argument("--height", type=int, default=2500, help="pixels from the top of an HTML page [2500]")
    parser.add_argument("--n-resamples", type=int, default=None, help="resamples of every bootstrap [the defaults]")
    parser.add_argument("--formats", default=",".join(FORMATS), help=f"comma-separated subset of {','.join(FORMATS)}")
    args = parser.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    if unknown := set(formats) - set(FORMATS):
        parser.error(f"unknown format(s): {', '.join(sorted(unknown))}")

    import servmodels as sm
    from servmodels.render import write_report

    data = sm.read_survey(sm.example_path(), outcome="satisfaction", groups=["gender"])
    analysis = sm.analyze(data, seed=3, n_resamples=args.n_resamples)
    with tempfile.TemporaryDirectory() as tmp:
        write_report(analysis, tmp, [f for f in formats if f != "md"] + ["md"], ["en", "id"])
        for name, target in shoot(Path(tmp), args.out, formats, args.height).items():
            print(f"{target}: {target.stat().st_size // 1000} kB ({name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
