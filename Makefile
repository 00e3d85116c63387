# `make test` and `make demo` work on a fresh clone: each creates .venv/ and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INSTALLED_BENCH := $(VENV)/.installed-bench

.PHONY: test demo install bench clean

install: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[lab,test]'
	touch $(INSTALLED)

test: $(INSTALLED)
	$(BIN)/python -m pytest

demo: $(INSTALLED)
	$(BIN)/plumbline demo

# Scan speed against Bandit on real Flask + SQLAlchemy code bases fetched from PyPI (cached in bench/.corpus/).
$(INSTALLED_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[lab,test,bench]'
	touch $(INSTALLED_BENCH)

bench: $(INSTALLED_BENCH)
	$(BIN)/python bench/scan_speed.py

# `plumbline audit` of a 1,000,000-row, 5-column table on an embedded PostgreSQL (127.0.0.1): sampled and exact
# wall time, peak RSS; then of a 200,000-item DynamoDB table on a moto server. ARGS passes options, e.g.
# make bench-audit ARGS="--rows 200000 --repeat 1" or ARGS="--part dynamodb"
.PHONY: bench-audit
bench-audit: $(INSTALLED)
	$(BIN)/python bench/audit.py $(ARGS)

# `plumbline audit --scan` on live databases built from the labelled public apps' own SQL schema files (embedded
# PostgreSQL, 127.0.0.1): the audit's column findings against the scan's, and any drift.
.PHONY: bench-audit-realworld
bench-audit-realworld: $(INSTALLED)
	$(BIN)/python bench/audit_realworld.py $(ARGS)

# Recall and precision of the scan on hand-labelled public apps (bench/realworld/); needs their git snapshots
# in $PLUMBLINE_CORPUS (default /work/.mirror). ARGS passes options, e.g. make bench-quality ARGS=--json
.PHONY: bench-quality
bench-quality: $(INSTALLED)
	$(BIN)/python bench/quality.py $(ARGS)

# The probe against public Flask APIs nobody here wrote (bench/realapis/): each pinned app is exported from
# $PLUMBLINE_CORPUS (default /work/.mirror), run locally in its own virtualenv, and probed with two identities.
.PHONY: bench-realapis
bench-realapis: $(INSTALLED)
	$(BIN)/python bench/realapis/run.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info

# Burst synchronisation (last-byte sync vs asyncio.gather vs barrier threads) and lost-update detection on the lab.
.PHONY: bench-burst
bench-burst: $(INSTALLED)
	$(BIN)/python bench/burst.py

# Fuzz the extractor, the SQL/DDL parsing, the OpenAPI loader and the probe's HTTP handling for MINUTES minutes;
# crashes, each with a small input that reproduces it, go to /tmp/plumbline-fuzz/.
MINUTES ?= 10
.PHONY: fuzz
fuzz: $(INSTALLED_BENCH)
	$(BIN)/python bench/fuzz.py --minutes $(MINUTES)

# The probe on the zoo of small APIs shaped unlike the lab (tests/probe/zoo/): detection per planted failure,
# false alarms per hardened twin and wall time per probe, over RUNS runs of each twin.
RUNS ?= 10
.PHONY: bench-zoo
bench-zoo: $(INSTALLED)
	$(BIN)/python bench/zoo.py --runs $(RUNS)
