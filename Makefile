# Developer and CI entry points. `make test` is what CI runs (through .ci/run).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLICKHOUSE_SERVER ?= /usr/sbin/clickhouse-server
HOST ?= 127.0.0.1
PORT ?= 8000
TELLER_DATA_DIR ?= ./data
export TELLER_DATA_DIR

.PHONY: venv install run test server-deps lint audit clean translations

venv: $(STAMP)

install: $(STAMP)

# Reinstalls only when pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[embedded,dev]'
	touch $@

run: install
	$(BIN)/teller serve --host $(HOST) --port $(PORT)

# Installs the system packages the tests use (ClickHouse server, ZooKeeper, wrk, Chromium) when one is
# missing and we are root; otherwise those tests skip (or fail, with CI or TELLER_REQUIRE_SERVER=1 set).
server-deps:
	@missing=""; \
	[ -n "$$TELLER_TEST_CLICKHOUSE_SERVER" ] || [ -x $(CLICKHOUSE_SERVER) ] || missing="$$missing clickhouse-server clickhouse-client"; \
	[ -x /usr/share/zookeeper/bin/zkServer.sh ] || [ -d /usr/share/zookeeper ] || missing="$$missing zookeeper"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -z "$$missing" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ]; then \
		bash .ci/apt-install $$missing; \
	else \
		echo "missing system packages:$$missing — run 'sudo .ci/apt-install$$missing'"; \
	fi

test: install server-deps
	$(BIN)/ruff check .
	# Two test processes, a file each at a time: the suite's ClickHouse servers, browsers and chdb threads
	# leave a 2-core machine half idle in one process.
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

# Known-vulnerability audit of the installed dependencies against the PyPI/OSV advisory service. It is
# not part of `make test` or CI: where the service cannot be reached it checks nothing, so it fails
# here instead of passing silently (--strict). Run it on a machine with internet access.
audit: install
	$(BIN)/pip-audit --progress-spinner off --local --strict

# Collect the dashboard's texts and merge them into the bokmål catalogue; translate the new entries (empty
# msgstr) by hand, tests/dashboard/test_translations.py fails until every one is done.
translations: install
	mkdir -p build
	$(BIN)/pybabel extract -F dashboard/locale/babel.cfg -k N_ --no-location --sort-output -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d dashboard/locale -l nb --no-fuzzy-matching --ignore-obsolete --width 120

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
