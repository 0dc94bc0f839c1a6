# Two commands do all setup on a fresh machine (Python 3.11 + make):
#   make book   build the site into _build/html
#   make lab    open the chapters in JupyterLab (http://127.0.0.1:8888), from the pinned environment
#   make check  the quick loop: unit tests and the JavaScript twins in Chromium; no notebooks, no site (< 3 min)
#   make test   everything: the book, the chapters with the model double, every test, the built site in Chromium
#               (axe-core from npm on every page: npm ci, as pinned by package-lock.json);
#               installs Debian's chromium and chromium-driver first when missing (as root)
#   make bench  speed, size and page-weight figures with their targets (not part of test)
#   make test-model  every chapter again with a test double of the trained zh_core_web_sm (part of test)
# Both create .venv from the pinned requirements on first use.

PYTHON ?= $(shell command -v python3.11 || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
BOOK_DEPS := $(VENV)/.book-deps
TEST_DEPS := $(VENV)/.test-deps
TORCH_REF := $(VENV)/torch-ref
# setuptools 80.x (as on Binder) warns when pkg_resources is imported; tests/test_build_env.py
# builds a small book with it first on PYTHONPATH. Its own folder, so the venv keeps its setuptools.
SETUPTOOLS_80 := $(VENV)/setuptools-80
MODEL_WHEEL := https://github.com/explosion/spacy-models/releases/download/zh_core_web_sm-3.8.0/zh_core_web_sm-3.8.0-py3-none-any.whl
# The model segments words with pkuseg; pinned as in binder/requirements.txt.
MODEL_DEPS := spacy-pkuseg==1.0.1

# The published site is built with the trained zh_core_web_sm, which only spaCy's release
# page serves. Its path is tested with a double built offline (tests/model_double), installed
# into an environment of its own so that .venv keeps testing the offline stand-in.
MODEL_VENV := .venv-model
DOUBLE_DIR := _build/model-double

.PHONY: book lab test test-model check browser bench model clean stamp-hash pytest-built pytest-rest timed-book timed-pytest-built timed-test-model timed-pytest-rest FORCE

$(BOOK_DEPS): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# A .venv made before torch had its own folder still holds it: removed, so that the book's kernels do not load it.
$(TEST_DEPS): $(BOOK_DEPS) requirements-test.txt $(TORCH_REF)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	@if $(BIN)/python -m pip show --quiet torch >/dev/null 2>&1; then $(BIN)/python -m pip uninstall --quiet --yes torch; fi
	touch $@

# torch in a folder of its own (requirements-torch.txt says why), on sys.path only in pytest and the bench.
$(TORCH_REF)/.installed: $(BOOK_DEPS) requirements-torch.txt
	rm -rf $(TORCH_REF)
	$(BIN)/python -m pip install --quiet --no-deps --target $(TORCH_REF) -r requirements-torch.txt
	touch $@

# Its pins install beside .venv's (no order between them); the editable install of this folder waits for .venv's,
# so that the two never build this project's metadata in the same folder at once.
$(MODEL_VENV)/.deps: requirements.txt tests/model_double/requirements.txt
	rm -rf $(MODEL_VENV)
	$(PYTHON) -m venv $(MODEL_VENV)
	$(MODEL_VENV)/bin/python -m pip install --quiet -r tests/model_double/requirements.txt
	touch $@

$(MODEL_VENV)/.installed: $(MODEL_VENV)/.deps pyproject.toml tests/model_double/make_double.py tests/model_double/double_words.py | $(BOOK_DEPS)
	rm -rf $(DOUBLE_DIR)
	$(MODEL_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(MODEL_VENV)/bin/python tests/model_double/make_double.py $(DOUBLE_DIR) > /dev/null
	$(MODEL_VENV)/bin/python -m pip install --quiet --no-deps --no-build-isolation $(DOUBLE_DIR)/zh_core_web_sm-3.8.0
	touch $@

# axe-core, which tests/test_axe_browser.py runs on every built page: a test-only npm package, pinned by
# package-lock.json, installed exactly as locked (npm ci). Never shipped with the site.
NODE_DEPS := node_modules/.package-lock.json
# Debian's npm is installed first when it is missing and make runs as root (as CI does), as Chromium is.
$(NODE_DEPS): package.json package-lock.json
	@if ! command -v npm >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y npm; \
		else \
			echo "make test runs axe-core from npm, which is not installed. As root, run:" >&2; \
			echo "    apt-get update && apt-get install -y npm" >&2; \
			exit 1; \
		fi; \
	fi
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(SETUPTOOLS_80)/.installed: $(BOOK_DEPS)
	$(BIN)/python -m pip install --quiet --no-deps --upgrade --target $(SETUPTOOLS_80) setuptools==80.9.0
	touch $@

# The execution cache is keyed on each notebook's code, not on attn_steps:
# when the package, the static files or the pins change, drop the cache so every
# page shows its current output (and the old html, whose static files Sphinx would
# not overwrite). The stamp holds a hash of their content, not a time: on a fresh
# checkout every file is new, and CI restores the cache with its stamp. attn_steps/data/*
# also lists data/poet, a folder: only files are hashed (else the hash is empty and never changes).
STAMP_INPUTS := $(sort $(wildcard attn_steps/*.py attn_steps/web/*.js attn_steps/web/*.css attn_steps/data/* attn_steps/data/*/* _static/*)) requirements.txt
STAMP_HASH = $(shell $(PYTHON) -c 'import hashlib, os, sys; h = hashlib.sha256(); [h.update(p.encode() + open(p, "rb").read()) for p in sys.argv[1:] if os.path.isfile(p)]; print(h.hexdigest())' $(STAMP_INPUTS))

_build/.attn_steps-stamp: FORCE
	@if [ "$$(cat $@ 2>/dev/null)" != "$(STAMP_HASH)" ]; then \
		echo "attn_steps, _static or the pins changed: dropping the execution cache"; \
		rm -rf _build/.jupyter_cache _build/.doctrees _build/html _build/jupyter_execute _build/head-cache; \
		mkdir -p _build && echo "$(STAMP_HASH)" > $@; \
	fi

FORCE:

# The stamp's hash of the current files; tests/test_executed_notebooks.py compares it with the build's.
stamp-hash:
	@echo $(STAMP_HASH)

# Heads trained alike by the parts of one build or test run (chapter 4, the site's typing tables,
# the tests) are trained once, and chapter 9's knock-outs computed once: each is kept in this folder
# under a hash of all its inputs and code (attn_steps/run_cache.py). Unset outside make, so a reader's
# notebook always computes.
HEAD_CACHE := $(CURDIR)/_build/head-cache

# Warnings fail the build (-W): a page with a broken reference or a notebook
# that errors never reaches the site. Unchanged notebooks come from the cache.
# Chapter 4's head, trained by the chapter, comes from HEAD_CACHE for the site's typing tables
# (_ext/site_tables.py) when the chapter has trained it first, instead of being trained again
# (make bench: cold build / bare execution).
book: export ATTN_HEAD_CACHE := $(HEAD_CACHE)
book: $(BOOK_DEPS) _build/.attn_steps-stamp
	$(BIN)/jupyter-book build . -W --keep-going

# Each part timed, wall clock and CPU (tools/timed.py); the times are printed at the end (also when a part fails).
TIMES := _build/test-times.txt
define timed
	@$(PYTHON) tools/timed.py $(TIMES) "$(1)" -- $(2) || { echo "time of each part of make test:"; cat $(TIMES); exit 1; }
endef

# HEAD_CACHE (see book) is emptied at the start of each run.
# ATTN_REQUIRE_BROWSER: a browser test that finds no Chromium fails here (by hand it is skipped, saying what to install).
# After the environments, two chains run side by side, one core each (each part prints its wall and CPU time):
# make book, then pytest -m notebook (the tests that read its execution and its site);
# make test-model (every chapter again with the model double, in .venv-model), then the rest of pytest (make check's
# tests, the slow ones, the chapters live in JupyterLab). Never more than two at once: a third part beside both
# notebook runs pushed a cell of chapter 4 past the build's 300 s timeout on a busy machine.
# The notebooks run twice in pytest's sense, not three times: tests/test_executed_notebooks.py checks the build's
# execution (README); JupyterLab runs chapters 2, 4, 8 and 9 once more, as a reader does.
# One thread for NumPy's OpenBLAS and for torch in every part: the two chains already fill both cores, and a
# second BLAS thread each only spun (chapter 4 alone: the same 33 s wall with one thread or two, 32 s CPU with one,
# 40 s with two; in make test the build's chapter 4 went from 72 s to 31 s, the model double's run from 144 s to 94 s).
test: export ATTN_HEAD_CACHE := $(HEAD_CACHE)
test: export ATTN_REQUIRE_BROWSER := 1
test: export OPENBLAS_NUM_THREADS := 1
test: export OMP_NUM_THREADS := 1
test: export MKL_NUM_THREADS := 1
test:
	@mkdir -p _build && : > $(TIMES) && rm -rf $(HEAD_CACHE)
	$(call timed,browser (Debian's Chromium),$(MAKE) --no-print-directory browser)
	$(call timed,test environments (.venv and .venv-model side by side; axe-core from npm),$(MAKE) --no-print-directory -j2 $(TEST_DEPS) $(SETUPTOOLS_80)/.installed $(MODEL_VENV)/.installed $(NODE_DEPS))
	$(call timed,the notebooks and pytest (the two chains below side by side),$(MAKE) --no-print-directory -j2 --output-sync=target timed-pytest-built timed-pytest-rest)
	@echo "time of each part of make test:"; cat $(TIMES)

# A part of make test run beside others: its own time, indented under theirs. Each part's output is printed whole when it ends.
TIMED_PARTS := timed-book timed-pytest-built timed-test-model timed-pytest-rest
$(TIMED_PARTS): timed-%:
	@$(PYTHON) tools/timed.py $(TIMES) "  make $*" -- $(MAKE) --no-print-directory $*
timed-pytest-built: timed-book
timed-pytest-rest: timed-test-model

# pytest in two parts for make test: after the build, what reads it (its execution, its site in Chromium);
# beside it, the rest (make check's tests, the slow ones, the chapters run live in JupyterLab: tests/test_lab.py).
pytest-built:
	$(BIN)/python -m pytest -m notebook
pytest-rest:
	$(BIN)/python -m pytest -m "not notebook"

# The quick loop: unit tests and the JavaScript twins in Chromium (bare pages, no site); no notebook runs,
# no book is built. A missing Chromium skips the browser tests with the command that installs it.
check: $(TEST_DEPS)
	$(BIN)/python -m pytest -m "not notebook and not slow and not lab"

# The browser tests drive Debian's Chromium and its driver. Installed here when they are
# missing and make runs as root (as CI does); otherwise make stops before the long suite.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "Chromium: $$(chromium --version 2>/dev/null | head -1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	else \
		echo "make test drives Debian's Chromium, which is not installed. As root, run:" >&2; \
		echo "    apt-get update && apt-get install -y chromium chromium-driver" >&2; \
		exit 1; \
	fi

# addopts cleared: this environment has no selenium and runs only this file.
test-model: $(MODEL_VENV)/.installed
	$(MODEL_VENV)/bin/python -m pytest -p no:cacheprovider -o addopts="" -q tests/model_double/check_notebooks.py

# The chapters in JupyterLab (Notebook 7's interface is at /tree), from .venv, bound to 127.0.0.1 only.
# Every widget runs there with the kernel behind it (attn_steps/live.py): no built site is needed.
# As root (a container, CI) Jupyter needs --allow-root. LAB_PORT=… picks another port.
LAB_PORT ?= 8888
lab: $(BOOK_DEPS)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) --ServerApp.root_dir=notebooks \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Every speed, size and page-weight figure with its target (several minutes; not part of test).
# Needs the test environment (torch as the reference, selenium for page weights).
bench: $(TEST_DEPS)
	$(BIN)/python -m benchmarks.bench

# The trained spaCy model, from its official release wheel (needs internet).
# Never the package-index name zh-core-web-sm: that is a placeholder, not the model.
# Dropping the stamp re-executes every page, so none keeps the stand-in's numbers.
model: $(BOOK_DEPS)
	$(BIN)/python -m pip install $(MODEL_DEPS) $(MODEL_WHEEL)
	rm -f _build/.attn_steps-stamp

clean:
	rm -rf _build
