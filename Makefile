# The two commands of the README:  make serve  and  make test.
# Both create or refresh .venv from the pinned requirements first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed

.PHONY: serve test build notebooks clean

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

serve: $(STAMP)          ## build (executing changed notebooks) and serve at http://127.0.0.1:8000
	$(BIN)/mkdocs serve --strict -a 127.0.0.1:8000

test: $(STAMP)           ## the whole test suite, including both strict builds with every notebook executed
	$(BIN)/python -m pytest

build: $(STAMP)          ## site/ (hosted) with the offline zip inside it, as the deploy workflow does
	$(BIN)/python -m tools.build_site site

notebooks: $(STAMP)      ## execute the notebooks that changed since their last run
	$(BIN)/python -m tools.notebook_runner

clean:
	rm -rf site build .cache .pytest_cache
