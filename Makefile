# Two commands for a fresh machine: `make paper` (set up, then build the example paper) and `make test`.
PYTHON ?= python3
DATA ?= data
OUT ?= build
DEBIAN_PACKAGES := poppler-utils libharfbuzz-subset0 fontconfig fonts-liberation2 fonts-dejavu-core

.PHONY: paper test setup system-packages python-packages lint bench fixtures

paper: setup
	erh-report build $(DATA) --out $(OUT)

test: setup
	$(PYTHON) -m pytest
	$(PYTHON) -m ruff check erh_report tests benchmarks

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

python-packages:
	$(PYTHON) -m pip install -q --disable-pip-version-check -e '.[dev]'

lint:
	$(PYTHON) -m ruff check erh_report tests benchmarks

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PYTHON) $$b || exit 1; done

# Regenerates the metafor reference values (needs R with metafor: apt-get install -y r-cran-metafor r-cran-jsonlite).
fixtures:
	Rscript tests/r/make_fixtures.R
	Rscript tests/r/make_fixtures_multilevel.R
