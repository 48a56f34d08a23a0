# Two commands a newcomer needs: `make reproduce` (the main job) and `make test` (the test suite).
# Both create .venv and install the project (pinned in settings.ini) the first time they run.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.attrreid-installed

.PHONY: install reproduce reproduce-fast test sync-check nbtest pytest export clean-nbs readme docs lab

# Reinstall only when the pins or the packaging change.
$(STAMP): settings.ini setup.py pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/attrreid_reproduce

reproduce-fast: $(STAMP)
	$(BIN)/attrreid_reproduce --fast

test: $(STAMP)
	$(BIN)/python tools/sync_check.py
	$(BIN)/nbdev_test --timing
	@# pytest exits 5 when it collects nothing; that is a failure here, since tests/ must not be empty
	$(BIN)/python -m pytest tests/ -q

export: $(STAMP)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean
	$(BIN)/python tools/make_readme.py

readme: $(STAMP)
	$(BIN)/python tools/make_readme.py

docs: $(STAMP)
	@if command -v quarto >/dev/null 2>&1; then \
		$(BIN)/nbdev_docs; \
	else \
		echo "Quarto is not installed, so the docs site cannot be built here."; \
		echo "Install it from https://quarto.org/docs/get-started/ and run 'make docs' again (it runs nbdev_docs)."; \
		echo "Meanwhile, writing an HTML preview of every notebook to _preview/ with jupyter nbconvert ..."; \
		$(BIN)/jupyter nbconvert --to html --output-dir _preview nbs/*.ipynb; \
		echo "Open _preview/index.html in a browser."; \
	fi

lab: $(STAMP)
	$(BIN)/jupyter lab nbs/
