# The two commands a user needs: `make demo` and `make test`. Both set
# everything up on a fresh Debian 12 machine (Python 3.11): .venv, PostgreSQL
# and PostGIS (Debian packages, when missing), and the project's own cluster.

VENV := .venv
MUJUN := $(VENV)/bin/mujun
PYTEST := $(VENV)/bin/pytest
SIZE ?= small
SEED ?= 42
# parallel test processes (pytest-xdist; each file runs whole in one of them)
TEST_WORKERS ?= 2

.PHONY: help setup demo test bench lint db-start db-stop clean

help:
	@echo "make demo    set up, start PostGIS, build and load the sample city, print a summary"
	@echo "make test    set up, start PostGIS, run the whole test suite"
	@echo "make bench   set up, run the benchmarks (city-sized; takes a while)"
	@echo "make lint    ruff"

setup:
	@scripts/bootstrap.sh python postgis fonts webassets

demo: setup
	$(MUJUN) demo --size $(SIZE) --seed $(SEED)

test: setup
	@scripts/bootstrap.sh chromium
	$(MUJUN) db start
	$(PYTEST) -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=30

bench: setup
	@scripts/bootstrap.sh gdal
	$(MUJUN) db start
	$(VENV)/bin/python -m benchmarks

lint: setup
	$(VENV)/bin/ruff check gis parcels remote_sensing scoring maps sample tests benchmarks

db-start: setup
	$(MUJUN) db start

db-stop:
	$(MUJUN) db stop

clean:
	-$(MUJUN) db stop
	rm -rf .mujun
