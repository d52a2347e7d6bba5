# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint check install init bench clean

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

bench: install
	$(BIN)/python -m bench.transactions

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
