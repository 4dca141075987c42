# The two commands of the README: `make course` and `make test` (both set up .venv if needed).
VENV ?= .venv
BIN := $(VENV)/bin
export PYTHONHASHSEED := 0

.PHONY: setup course test test-fast fuzz lint clean site site-test sync

setup:
	@bash tools/setup_env.sh

course: setup
	$(BIN)/labkit run --all

# Two pytest workers on 2 cores, each (and every notebook it runs) at one torch thread (LABKIT_THREADS=1):
# four threads on two cores made a 50 s notebook take 9 minutes. Headless (no live widgets) and a per-cell time
# limit, so a stalled kernel fails a test instead of hanging CI.
test: setup
	LABKIT_HEADLESS=1 LABKIT_THREADS=1 LABKIT_CELL_TIMEOUT=900 $(BIN)/python -m pytest -q -n 2 --dist loadfile tests
	LABKIT_HEADLESS=1 LABKIT_THREADS=1 $(BIN)/python -m pytest -q -n 2 --dist loadscope --nbval-lax --nbval-current-env \
		--nbval-cell-timeout 900 notebooks

# The unit tests without the `slow` ones (whole notebook runs, training scripts, benchmarks) and without nbval;
# a -m here replaces the one in pyproject's addopts, so it says `not browser` again.
test-fast: setup
	LABKIT_HEADLESS=1 LABKIT_THREADS=1 LABKIT_CELL_TIMEOUT=900 $(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not slow and not browser" tests

# The course website: the committed (executed) notebooks, the labkit API and the guides, into site/.
site: setup
	$(BIN)/python tools/build_site.py --out site

# The website in a real browser (Debian's chromium, driven by Playwright): figures, links, search, screenshots.
site-test: site
	$(BIN)/python -m pytest -q -p no:randomly -m browser tests/site

fuzz: setup
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz_parsers.py

# After editing a notebook or its text source (notebooks/NN_name.py): bring each pair level.
sync: setup
	$(BIN)/labkit sync

lint: setup
	$(BIN)/ruff check labkit tests tools benchmarks notebooks

clean:
	rm -rf runs student site .pytest_cache
