# Two commands: `make run` and `make test`. Both build .venv from requirements.lock first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint bench demo clean poppler browser fonts notebook java

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# The app on the bundled demo case (built and analysed on first start), at http://127.0.0.1:8501
run: setup
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port 8501

test: setup poppler fonts browser java lint
	$(PY) -m pytest -q -n 2 --dist loadfile

# Evidence-packet tests render the PDF with pdftoppm: install poppler-utils when missing and root.
poppler:
	@command -v pdftoppm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
	  || echo "pdftoppm is missing: install poppler-utils (PDF render tests skip, and fail under CI=true)"; }

# Fonts for every script of the evidence (Chinese, Arabic script, emoji), used by report.pdf
# (detector/evidence/fonts.py finds them by path) and by chromium in the browser tests. SIL OFL.
FONT_PACKAGES := fonts-noto-cjk fonts-noto-core fonts-noto-color-emoji
fonts:
	@{ [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] \
	  && [ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] \
	  && [ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; } || { [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      $(FONT_PACKAGES) >/dev/null) \
	  || echo "fonts are missing: install $(FONT_PACKAGES) (the PDF marks what it cannot draw; script tests fail under CI=true)"; }

# Browser tests (tests/test_browser.py) drive Debian's chromium: install it when missing and root.
# The fonts come first, so the screenshots show Chinese, Uyghur and emoji as glyphs, not boxes.
browser: fonts
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium is missing: install it (browser tests skip, and fail under CI=true)"; }

# The walkthrough in JupyterLab (pinned in requirements-notebook.lock; only this target installs it).
notebook: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-notebook.lock
	$(VENV)/bin/jupyter lab notebooks/walkthrough.ipynb --ServerApp.ip=127.0.0.1 --no-browser

# Spark tests (tests/test_dsa_spark.py) need a Java runtime: install Debian's when missing and root.
java:
	@command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null) \
	  || echo "java is missing: install openjdk-17-jre-headless (Spark tests skip, and fail under CI=true)"; }

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
