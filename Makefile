# Two commands: `make run` (the whole stack with a demo fleet) and `make test` (every test).
# Both install what is missing first: Debian packages (via apt-get, as root or with sudo) and a
# virtualenv with the project.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# binary-or-file:package pairs; a package is installed only when its file is missing.
APT_NEEDS := /usr/sbin/mosquitto:mosquitto /usr/bin/mosquitto_pub:mosquitto-clients \
	/usr/bin/influxd:influxdb /usr/bin/ffmpeg:ffmpeg \
	/usr/share/doc/opencv-doc/examples/data/vtest.avi:opencv-doc \
	/usr/bin/chromium:chromium /usr/bin/chromedriver:chromium-driver \
	/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core /usr/bin/pdftotext:poppler-utils

.PHONY: run test deps apt venv lint typecheck pytest clean

run: deps
	$(PY) -m devstack

test: deps lint typecheck pytest

deps: apt venv

apt:
	@missing=""; for pair in $(APT_NEEDS); do \
		[ -e "$${pair%%:*}" ] || missing="$$missing $${pair##*:}"; \
	done; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

lint:
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck:
	$(VENV)/bin/mypy .

pytest:
	$(VENV)/bin/pytest

clean:
	rm -rf $(VENV) run .mypy_cache .ruff_cache .pytest_cache .hypothesis
