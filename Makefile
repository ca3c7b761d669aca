# `make demo` runs the app, `make test` runs the tests (`make test-fast`: all but the slow
# ones, in parallel, for the edit-test loop); each creates .venv first if needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TASK ?= cv-multitask-loss

.PHONY: demo test test-fast install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mlsbench-tui --task $(TASK) --profile demo

# The whole suite on 2 workers (training runs one thread each on demo), then the Slurm
# tests alone: they share one local cluster, which two workers would each start.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -ra --durations=15 -m "not slurm" -n $(TEST_WORKERS)
	$(PY) -m pytest -ra -m slurm

# Everything but the tests marked `slow` (training, whole sessions), on 2 workers: most
# tests wait on subprocesses and the screen, so two share a 2-core machine well.
TEST_FAST_WORKERS ?= 2
test-fast: $(STAMP)
	$(PY) -m pytest -ra -m "not slow" -n $(TEST_FAST_WORKERS) --durations=10

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
