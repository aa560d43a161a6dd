# The two set-up commands (README): `make demo` and `make test`.
# Both create .venv on first use; only Python 3.11+, git and make are assumed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: demo test lint bench conformance clean git-lfs chromium pyc

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# pip compiles every module at install time, on purpose: where PYTHONDONTWRITEBYTECODE is set (this machine,
# some CI runners) Python would otherwise compile each imported module again in every process it starts.
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

# One install for the test extras (not `-e .` first and then again): the tests need both stamps.
$(TSTAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

# git-lfs is needed by the tests that push large files; install it when missing.
git-lfs:
	@git lfs version >/dev/null 2>&1 || { \
	  echo "git-lfs not found: installing it"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	  if command -v apt-get >/dev/null; then $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq git-lfs >/dev/null; \
	  elif command -v brew >/dev/null; then brew install git-lfs; \
	  elif command -v dnf >/dev/null; then $$SUDO dnf install -y git-lfs; \
	  else echo "Please install git-lfs (https://git-lfs.com)"; exit 1; fi; }

# The console's browser tests (tests/serve/test_browser.py) drive Debian's Chromium through Playwright
# (Playwright's own browser download is not used); install it when missing.
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "chromium not found: installing it"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
	  if command -v apt-get >/dev/null; then $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	  else echo "Please install Chromium at /usr/bin/chromium"; exit 1; fi; }

demo: $(STAMP) pyc
	$(VENV)/bin/remedybot demo

# Our own modules, compiled once: where PYTHONDONTWRITEBYTECODE is set, every process (the suite starts hundreds)
# would compile them again. A stale .pyc is never used (Python checks the source's time), so this is only a cache.
pyc: $(STAMP)
	@$(PY) -m compileall -q -j 0 -x '^tests/data/' remedybot playbooks tests >/dev/null

# mypy runs beside the tests, not before them: on a fresh clone it takes ~20 s of one core, and the tests leave part
# of the second core idle. Its report is printed after the tests'; either failing fails the target.
test: $(TSTAMP) git-lfs chromium pyc
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	@echo "$(PY) -m mypy  (beside the tests; its report follows them)"
	@$(PY) -m mypy > $(VENV)/mypy.out 2>&1 & typing=$$!; \
	$(PY) -m pytest -n auto; tests=$$?; \
	wait $$typing; typed=$$?; cat $(VENV)/mypy.out; \
	test $$tests -eq 0 && test $$typed -eq 0

bench: $(TSTAMP) git-lfs
	for b in bench/bench_*.py; do $(PY) $$b || exit 1; done

# huggingface_hub's own Hub-API tests against a fresh sandbox Hub (downloads the pinned sdist;
# never part of `make test`). See CONTRIBUTING.md.
conformance: $(TSTAMP) git-lfs
	$(PY) -m pip install --quiet -e '.[test,conformance]'
	$(PY) tools/conformance/run.py

clean:
	rm -rf $(VENV) .conformance build dist *.egg-info .pytest_cache .ruff_cache
