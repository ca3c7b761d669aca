# `make demo` runs the app, `make test` runs the tests; each creates .venv first if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TASK ?= cv-multitask-loss

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mlsbench-tui --task $(TASK) --profile demo

test: $(STAMP)
	$(PY) -m pytest -ra --durations=15

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
