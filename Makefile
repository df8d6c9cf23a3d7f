# Two commands set everything up on a fresh machine:  make demo  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo

.PHONY: install system-deps test lint demo crawl bench bench-quick clean constraints

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Chromium and a CJK font for the browser test (apt; skipped when already there).
system-deps:
	./scripts/install-system-deps.sh

lint: install
	$(BIN)/ruff check .

test: install system-deps lint
	$(BIN)/pytest -q

# The main job end to end, offline. Until the spider lands it loads the seed record.
demo: install
	mkdir -p $(DEMO)
	$(BIN)/corpus load --db $(DEMO)/corpus.db tests/fixtures/seed-record.json
	$(BIN)/corpus search 数字化赋能 --db $(DEMO)/corpus.db
	$(BIN)/corpus stats --db $(DEMO)/corpus.db

# The live crawl against the real Wayback Machine (network needed).
crawl: install
	$(BIN)/corpus crawl --db corpus.db

bench: install
	$(BIN)/python scripts/bench.py

bench-quick: install
	$(BIN)/python scripts/bench.py --quick

# Re-pin the tested dependency set after changing pyproject.toml.
constraints:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^mofcom-corpus' > constraints.txt

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .ruff_cache
