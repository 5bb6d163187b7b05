# Vejviser: two commands on a fresh machine with only Python 3.11+ — `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test soak install bench docs lint typecheck check browser reset clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Vejviser needs Python 3.11 or newer"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make run: everything up on embedded defaults (NATS, four services, mail sink, demo data)
run: $(STAMP)
	$(PY) -m vejviser run

## make test: install, then the whole suite (lint and types included)
test: $(STAMP) browser
	$(PY) -m ruff check shared services vejviser tests bench
	$(PY) -m ruff format --check shared services vejviser tests bench
	$(PY) -m mypy
	$(PY) -m pytest -q -p no:cacheprovider --durations=15

## make soak: the fault suite with five rounds, the cluster losing two nodes in turn, the fuzzing with a larger budget
soak: $(STAMP)
	SOAK=1 $(PY) -m pytest -q -p no:cacheprovider -s tests/faults tests/integration/bus/test_cluster.py tests/contract/test_fuzz.py

## Chromium for the dashboard's browser test, from Debian's packages (skipped where apt is absent)
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium; the browser test will skip"; \
	fi

bench: $(STAMP)
	$(PY) -m bench

docs: $(STAMP)
	$(PY) -m vejviser docs --out docs

lint: $(STAMP)
	$(PY) -m ruff check shared services vejviser tests bench
	$(PY) -m ruff format --check shared services vejviser tests bench

typecheck: $(STAMP)
	$(PY) -m mypy

reset:
	rm -rf var

clean: reset
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
