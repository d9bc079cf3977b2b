# Two commands matter: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean

$(STAMP): setup.cfg pyproject.toml $(wildcard api/translations/*/LC_MESSAGES/*.po)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,prod]'
	$(BIN)/pybabel compile --use-fuzzy -d api/translations
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/onewindow demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/approval_paths.py

clean:
	rm -rf $(VENV) instance .pytest_cache
