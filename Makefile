# Two commands matter: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench screenshots clean

$(STAMP): setup.cfg pyproject.toml $(wildcard api/translations/*/LC_MESSAGES/*.po)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,prod]'
	$(BIN)/pybabel compile --use-fuzzy -d api/translations
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
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

test: $(STAMP) $(CHROMIUM) $(CJK_FONT)
	$(BIN)/python -m pytest

# the browser tests again, keeping their screenshots in docs/screenshots (shown in README)
screenshots: $(STAMP) $(CHROMIUM) $(CJK_FONT)
	ONEWINDOW_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q -k sqlite tests/test_browser_clerk.py

bench: $(STAMP)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/approval_paths.py

clean:
	rm -rf $(VENV) instance .pytest_cache
