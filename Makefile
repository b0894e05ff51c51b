# spintwin: `make demo` and `make test` set everything up themselves on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out

.PHONY: demo test test-long bench baselines lint clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock requirements-nodeps.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/spintwin demo --out $(OUT)/demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2

test-long: $(STAMP)
	$(PY) -m pytest -q -m long

bench: $(STAMP)
	$(PY) -m bench --out bench/results

baselines: $(STAMP)
	$(PY) -m boards.baselines --update

# ruff ([tool.ruff] in pyproject.toml), then the import-layer contract (tests/test_layers.py).
lint: $(STAMP)
	$(PY) -m compileall -q spinbase golden quantize hdl tb boards spintwin bench tests
	$(PY) -m ruff check spinbase golden quantize hdl tb boards spintwin bench tests
	$(PY) -m pytest -q -p no:cacheprovider tests/test_layers.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build
