# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint check install init bench bench-all mutation clean lock

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

init: install
	$(BIN)/fdxgw init

# Set up, initialise storage (SQLite under var/), and start the gateway with the sandbox bank.
run: init
	$(BIN)/fdxgw serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# Set up, then the whole suite: lint, types, tests.
test: lint
	$(BIN)/pytest

# FDX transactions read: the gateway on SQLite and on PostgreSQL + Redis vs a bare endpoint (wrk).
bench: install
	$(BIN)/python -m bench.fdx_read
	@echo "The other benchmarks: make bench-all, or one of them as docs/performance.md shows."

# Every benchmark, ~27 minutes: the concurrency sweep and its plot, the DPoP variant, the HTTP
# adapter against the in-process bank, two instances against one, memory over 200,000 requests,
# the flows against node-oidc-provider, and the flows with login = "oidc" beside "adapter".
bench-all: install
	$(BIN)/python -m bench.fdx_read --connections 1,4,16,64 --rounds 3 --seconds 5 \
		--plot docs/performance-fdx-read.svg
	$(BIN)/python -m bench.transactions
	$(BIN)/python -m bench.http_adapter
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.memory
	cd bench/node && npm ci --no-audit --no-fund
	$(BIN)/python -m bench.flows
	cd tests/bank_op && npm ci --no-audit --no-fund
	$(BIN)/python -m bench.login

# requirements.lock: every runtime dependency pinned with its hashes, for reproducible installs
# (`pip install --require-hashes -r requirements.lock` then `pip install --no-deps .`). uv
# resolves in about a second and writes pip's own format, so installing needs pip alone.
lock: install
	$(BIN)/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock -q

# Mutation testing of the consent gate (not in CI; about an hour on two busy cores): mutmut
# mutates the modules [tool.mutmut] in pyproject.toml names and runs the tests that exercise
# them against each mutant, then lists the survivors. The FDX spec is found where the test
# suite finds it.
mutation: install
	rm -rf mutants
	FDX_OPENAPI="$${FDX_OPENAPI:-$$($(BIN)/python -c 'from tests.conftest import _spec_path; print(_spec_path())')}" \
		$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache mutants
