# The two commands: `make run` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: run test lint setup browser bench-tools clean

run: setup
	@$(BIN)/python -m edm.launcher --port $(PORT)

test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

setup: $(VENV)/.installed

# Reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed; $(PYTHON) is $$($(PYTHON) --version 2>&1)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { \
	  rm -rf $(VENV); \
	  pkg=python3-venv; ver=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing python$$ver-venv (Debian splits venv out of python3)…"; \
	    apt-get install -y -q "python$$ver-venv" >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null && apt-get install -y -q "python$$ver-venv"; } || exit 1; \
	    $(PYTHON) -m venv $(VENV) || exit 1; \
	  else \
	    echo "Cannot create a virtualenv: run 'sudo apt-get install python$$ver-venv', then make again."; \
	    exit 1; \
	  fi; }

# Installs Debian packages when run as root, else says what to run: $(call apt_install,PKGS,WHY)
apt_install = if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing $(1) $(2)…"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1) >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(1); }; \
	else \
	  echo "Needed $(2): run 'sudo apt-get install $(1)', then make again."; exit 1; \
	fi

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || \
	  { $(call apt_install,chromium,for the browser tests); }

# Benchmarks compare against Postfix's smtp-source/smtp-sink and use the local PostgreSQL
# (bench/*.py; figures in docs/BENCHMARKS.md). Postfix is installed unconfigured: the system's
# mail server is never started; `bench_delivery.py --postfix` runs a private instance under
# /tmp (bench/postfix_peer.py) for the length of the benchmark.
bench-tools: setup
	@[ -x /usr/sbin/smtp-sink ] || { \
	  echo "postfix postfix/main_mailer_type select No configuration" | \
	    debconf-set-selections 2>/dev/null; \
	  $(call apt_install,postfix,for the delivery benchmark); }

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache
