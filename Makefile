# Two commands for a fresh machine: `make paper` (set up, then build the example paper) and `make test`.
# PYTHON makes the virtual environment .venv/ (Debian's own python3 refuses system-wide installs, PEP 668);
# every command and test then runs with the environment's interpreter, VENV_PYTHON.
PYTHON ?= python3
VENV ?= .venv
VENV_PYTHON := $(VENV)/bin/python
DATA ?= data
OUT ?= build
DEBIAN_PACKAGES := poppler-utils libharfbuzz-subset0 fontconfig fonts-liberation2 fonts-dejavu-core \
	fonts-droid-fallback

.PHONY: paper test setup system-packages python-packages lint bench fixtures

paper: setup
	$(VENV)/bin/erh-report build $(DATA) --out $(OUT)

test: setup
	$(VENV_PYTHON) -m pytest
	$(VENV_PYTHON) -m ruff check erh_report tests benchmarks
	$(VENV_PYTHON) -m ruff format --check erh_report tests benchmarks

setup: system-packages python-packages

# Debian packages: installed only when missing, so repeated runs stay fast and quiet.
system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The environment is made once; the project is installed into it again only when pyproject.toml changes.
python-packages: $(VENV)/.installed

$(VENV_PYTHON):
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 && command -v dpkg >/dev/null; then \
	  echo "installing Debian package python3-venv (venv without ensurepip)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	fi
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

lint:
	$(VENV_PYTHON) -m ruff check erh_report tests benchmarks
	$(VENV_PYTHON) -m ruff format --check erh_report tests benchmarks

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(VENV_PYTHON) $$b || exit 1; done

# Regenerates the metafor reference values (needs R with metafor: apt-get install -y r-cran-metafor r-cran-jsonlite).
fixtures:
	Rscript tests/r/make_fixtures.R
	Rscript tests/r/make_fixtures_multilevel.R
