# Two commands on a fresh machine with Python >= 3.11:  make demo   |   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
# pdflatex and the packages the LaTeX report uses (booktabs, longtable, caption, float, geometry, lmodern)
TEXLIVE := command -v pdflatex >/dev/null && command -v pdftoppm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq texlive-latex-recommended lmodern poppler-utils)

.PHONY: demo test test-slow test-browser test-latex screenshots browser-deps test-all bench docs clean venv

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "servmodels needs Python >= 3.11; set PYTHON=python3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

## demo: set up .venv, then score and analyse the bundled example survey into servmodels-demo/
demo: $(STAMP)
	$(BIN)/servmodels demo --out servmodels-demo

## test: set up .venv with test extras and run the default (fast) suite
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

## test-slow: the long simulations only
test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m slow

## test-browser: the HTML report and the web app in headless Chromium via Playwright (installs Debian's chromium when root)
test-browser: browser-deps
	$(BIN)/python -m pytest -q -m browser

## test-latex: compile the LaTeX reports with pdflatex (installs Debian's texlive-latex-recommended and lmodern when root)
test-latex: $(STAMP)
	@$(TEXLIVE)
	$(BIN)/python -m pytest -q -m latex

## screenshots: docs/img/report_{en,id,md,docx,tex}.png, the bundled example's report in every format, and
## docs/img/app_*.png, the web app's steps (taken by its browser test)
screenshots: browser-deps
	@$(TEXLIVE)
	$(BIN)/python docs/screenshots.py
	SERVMODELS_APP_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q -m browser tests/test_app_browser.py

browser-deps: $(STAMP)
	@command -v chromium >/dev/null || [ -n "$$CHROMIUM" ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| { echo "the browser tests need chromium: 'sudo apt-get install chromium', or set CHROMIUM=/path/to/chrome"; exit 1; }
	@# the Word report's picture: LibreOffice lays it out (with Caladea/Carlito, metric twins of Cambria/Calibri), poppler rasterises it
	@command -v soffice >/dev/null && command -v pdftoppm >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui poppler-utils fonts-crosextra-caladea fonts-crosextra-carlito; } \
		|| { echo "the Word screenshot needs 'sudo apt-get install libreoffice-writer-nogui poppler-utils fonts-crosextra-caladea fonts-crosextra-carlito'"; exit 1; }
	$(BIN)/python -m pip install --quiet -e '.[test,browser,app]'

test-all: $(STAMP)
	@$(TEXLIVE)
	$(BIN)/python -m pytest -n 2 -q -m 'slow or not slow'

## bench: benchmarks against peers in the same run (lavaan too when Rscript is installed); writes benchmarks/RESULTS.md
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run.py

## docs: build the documentation site (mkdocs + mkdocstrings) into site/
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/mkdocs build

clean:
	rm -rf $(VENV) servmodels-demo site .pytest_cache .hypothesis *.egg-info
