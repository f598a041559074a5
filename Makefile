# The two commands of the README: `make demo` and `make test`. Both create the virtual environment (.venv, or
# $(VENV)) on first use; `make demo` installs what the tool needs, `make test` adds the test packages (pytest, and
# slicer-core with VTK for the MRML tests), which the tool itself never imports.
VENV ?= .venv
PY := $(VENV)/bin/python
HASH := $(shell cat pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(HASH)
TEST_STAMP := $(VENV)/.installed-test-$(HASH)
# -qq: pip's own errors still show; the build backend's notes about editable installs do not
PIP := $(PY) -m pip install -qq

.PHONY: demo test test-slicer-python bench screenshots setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "Installing cd8rscore and the packages it needs into $(VENV) (the first time takes a few minutes) ..."
	$(PIP) --upgrade pip
	$(PIP) -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	@echo "Adding the test packages (pytest, slicer-core) to $(VENV) ..."
	$(PIP) -e '.[test]'
	@touch $(TEST_STAMP)

demo: setup
	$(VENV)/bin/cd8rscore demo --out demo-output
	@echo ""
	@echo "The tool is $(VENV)/bin/cd8rscore. To type just 'cd8rscore', run once per terminal:"
	@echo "    source $(VENV)/bin/activate"
	@echo "then try 'cd8rscore --help' and the Quick start of README.md."

test: $(TEST_STAMP)
	$(PY) -m pytest -q

# The modules' Python environment as Slicer 5.8, 5.10 and 5.12 ship it (one venv each in $(SLICER_VENVS), from the
# CPython of the same minor version: 3.9 and 3.12 under pyenv), the requirements installed as the modules install
# them, and the library tests of their actions (CD8RScore/Testing/SlicerPython/run_slicer_python_tests.py).
SLICER_VENVS ?= .venv-slicer
test-slicer-python: setup
	$(PY) CD8RScore/Testing/SlicerPython/run_slicer_python_tests.py --venvs $(SLICER_VENVS)

bench: setup
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

screenshots: $(TEST_STAMP)
	$(PY) Screenshots/render_screenshots.py --out Screenshots
