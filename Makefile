# Two commands matter: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench screenshots clean messages

$(STAMP): setup.cfg pyproject.toml $(wildcard api/translations/*/LC_MESSAGES/*.po)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,prod]'
	$(BIN)/pybabel compile --use-fuzzy -d api/translations
	touch $(STAMP)

# bpmn-js (viewer and modeler), Camunda's moddle extension and ECharts from the npm registry, served by the pages as static files (no CDN)
VENDOR := api/web/static/vendor
$(VENDOR)/.copied: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/bpmn-js $(VENDOR)/echarts $(VENDOR)/camunda-bpmn-moddle
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/bpmn-js/
	cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js $(VENDOR)/bpmn-js/
	cp node_modules/camunda-bpmn-moddle/resources/camunda.json $(VENDOR)/camunda-bpmn-moddle/
	cp -r node_modules/bpmn-js/dist/assets/. $(VENDOR)/bpmn-js/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	touch $@

install: $(STAMP) $(VENDOR)/.copied

demo: $(STAMP) $(VENDOR)/.copied
	$(BIN)/onewindow demo

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser),
# and a CJK font so pages and screenshots show Chinese
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
DEBIAN_PACKAGES := chromium chromium-driver fonts-wqy-zenhei
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM) $(CJK_FONT):
	$(SUDO) apt-get install -y --no-install-recommends $(DEBIAN_PACKAGES) || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends $(DEBIAN_PACKAGES))

test: $(STAMP) $(VENDOR)/.copied $(CHROMIUM) $(CJK_FONT)
	$(BIN)/python -m pytest

# the browser tests again, keeping their screenshots in docs/screenshots (shown in README)
screenshots: $(STAMP) $(VENDOR)/.copied $(CHROMIUM) $(CJK_FONT)
	ONEWINDOW_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q -k sqlite tests/test_browser_clerk.py tests/test_browser_console.py tests/test_browser_modeler.py

bench: $(STAMP)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/approval_paths.py
	$(BIN)/python bench/console_queries.py
	$(BIN)/python bench/design_checks.py
	$(BIN)/python bench/instance_migration.py
	$(BIN)/python bench/catalogue_sheets.py

# after changing user-facing texts: extract the msgids, merge them into the catalogue, translate the new
# entries in api/translations/zh_Hans_CN/LC_MESSAGES/messages.po, then compile (the engine marks rule texts with N_)
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -o /tmp/onewindow-messages.pot .
	$(BIN)/pybabel update -i /tmp/onewindow-messages.pot -d api/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d api/translations

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules $(VENDOR)
