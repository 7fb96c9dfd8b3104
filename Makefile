# The two commands of the README:  make serve  and  make test.
# Every target creates or refreshes .venv from the pinned requirements first.  pip does not compile
# the 22,000 installed modules (two of the three minutes of a cold install); Python compiles the
# 4,000 that are imported on first use and keeps them.  The build machines set PYTHONDONTWRITEBYTECODE,
# which would make every process compile them again, so a .pth file in the venv turns writing back on
# for this venv's interpreter (tools/write_bytecode.py).
#
# The build has two stages (tools/README.md):
#   1. python -m tools.prebuild   convert offline models, execute changed notebooks,
#                                 write the generated files (generated/, docs/notebooks/)
#   2. mkdocs                      render those plain files
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

.PHONY: serve test test-fast build notebooks screenshots lighthouse clean

$(STAMP): requirements.txt requirements-lock.txt tools/write_bytecode.py
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.txt
	$(BIN)/python -m tools.write_bytecode
	touch $@

serve: $(STAMP)          ## preview at http://127.0.0.1:8000; executes no notebook, keeps serving while a build is broken
	$(BIN)/python -m tools.serve --port 8000

# The notebooks whose inputs changed execute first, alone: their time is measured against their budgets.
# Then the tests run in two processes (pytest-xdist), one per core of the 2-core machine they are sized for.
WORKERS ?= 2

test: $(STAMP)           ## the whole test suite: both strict builds with every notebook executed, browser tests
	$(BIN)/python -m tools.prebuild
	$(BIN)/python -m pytest -n $(WORKERS) --dist worksteal

test-fast: $(STAMP)      ## about a minute and a half: content, sources, glossary, tool units; no site build, no notebook runs
	$(BIN)/python -m pytest -m "not slow" -q -n $(WORKERS) --dist worksteal

build: $(STAMP)          ## site/ (hosted) with the offline zip inside it, as the deploy workflow does
	$(BIN)/python -m tools.build_site site

notebooks: $(STAMP)      ## execute the notebooks whose inputs changed, and regenerate their pages
	$(BIN)/python -m tools.prebuild

screenshots: build      ## phone-sized screenshots (390 px, light and dark) of key pages into build/screenshots/
	$(BIN)/python -m tools.screenshots site

lighthouse: build       ## Lighthouse (mobile) scores of key pages: a benchmark, not a test (needs npm)
	$(BIN)/python -m tools.lighthouse site

clean:
	rm -rf site site-offline build .cache .pytest_cache generated
	find docs/notebooks -mindepth 1 ! -name index.md -exec rm -rf {} +
