# Two commands: `make run` and `make test`. Both build .venv from requirements.lock first.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test setup lint bench demo clean poppler browser notebook

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# The app on the bundled demo case (built and analysed on first start), at http://127.0.0.1:8501
run: setup
	$(VENV)/bin/streamlit run app.py --server.headless true --server.address 127.0.0.1 --server.port 8501

test: setup poppler browser lint
	$(PY) -m pytest -q

# Evidence-packet tests render the PDF with pdftoppm: install poppler-utils when missing and root.
poppler:
	@command -v pdftoppm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
	  || echo "pdftoppm is missing: install poppler-utils (PDF render tests skip, and fail under CI=true)"; }

# Browser tests (tests/test_browser.py) drive Debian's chromium: install it when missing and root.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium is missing: install it (browser tests skip, and fail under CI=true)"; }

# The walkthrough in JupyterLab (pinned in requirements-notebook.lock; only this target installs it).
notebook: setup
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-notebook.lock
	$(VENV)/bin/jupyter lab notebooks/walkthrough.ipynb --ServerApp.ip=127.0.0.1 --no-browser

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
