# The two commands of the README: `make up` and `make test`. Both install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

.PHONY: install up down test lint typecheck contracts bench-events bench-identity bench-evidence bench-notify bench-import bench-overview clean
.PHONY: browser bench-web
.PHONY: bench-web-overview bench-finalize

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

.venv/.synced: $(UV) uv.lock pyproject.toml libs/*/pyproject.toml services/*/pyproject.toml
	$(UV) sync --frozen --all-packages --quiet
	touch $@

install: .venv/.synced  ## install uv, Python dependencies and the local stand-in servers

up: install  ## run the whole suite locally in the foreground (Ctrl-C stops it)
	$(PY) -m kit.local.up

down: install  ## stop a stack left running in the background
	$(PY) -m kit.local.up --down

# Playwright's sync API keeps an event loop running in the main thread for its whole session, which the
# async tests cannot share: the browser tests run in a pytest of their own, beside the rest (both mostly wait
# on servers), which keeps make test under 20 minutes; their output follows the rest's, and either failing fails.
test: install lint typecheck browser crd-validators  ## everything CI runs: lint, unit, integration and e2e tests on throwaway servers
	@$(PY) -m pytest -q tests/e2e/browser > .browser-tests.log 2>&1 & browser=$$!; \
	trap 'kill $$browser 2>/dev/null' INT TERM EXIT; \
	$(PY) -m pytest -q -p no:playwright --ignore=tests/e2e/browser; rest=$$?; \
	wait $$browser; browsed=$$?; trap - INT TERM EXIT; \
	echo "--- browser tests (tests/e2e/browser) ---"; cat .browser-tests.log; \
	exit $$(( rest || browsed ))

# The web app's browser tests drive Debian's Chromium (never a browser Playwright downloads itself).
browser:  ## install Debian's headless Chromium for the browser tests when it is missing
	@if command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null; then exit 0; fi; \
	echo "browser tests need Chromium: installing Debian's chromium-headless-shell"; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell \
		|| DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	fi; \
	if ! command -v chromium-headless-shell >/dev/null && ! command -v chromium >/dev/null; then \
		echo "make browser: could not install Chromium (needs root and apt-get with Debian's packages);" \
		     "install chromium-headless-shell or chromium yourself, then run make test again" >&2; exit 1; fi

lint: install
	.venv/bin/ruff check .

typecheck: install
	.venv/bin/mypy libs/contracts/src libs/kit/src services/*/src

contracts: install  ## write a JSON Schema per event under docs/events/
	$(PY) -m contracts.schemas docs/events

bench-events: install  ## API commit -> handled in another process, next to raw Kafka
	$(PY) bench/events.py

bench-identity: install  ## login p95 (argon2id included) and kit.auth verifications per second
	$(PY) bench/identity.py

bench-evidence: install  ## 537,000,000 bytes through gateway + evidence into S3, next to minio straight to S3
	$(PY) bench/evidence.py

bench-notify: install  ## exam part scheduled (published event) -> e-mail accepted by the SMTP sink
	$(PY) bench/notify.py

bench-import: install  ## a 5,000-row .xlsx through the four import steps, committed, events published
	$(PY) bench/enrollment_import.py

bench-overview: install  ## the overview, 1,000 students x 10 exams, read through the gateway as a supervisor
	$(PY) bench/overview.py

bench-finalize: install  ## 200 assessments finalized through the gateway -> evidence locked, result e-mail accepted
	$(PY) bench/finalize.py

bench-web-overview: install  ## the web app's overview page, 1,000 imported students x 10 exams, as the exam board
	$(PY) bench/web_overview.py

bench-web: install browser  ## main pages through the gateway; 537,000,000 bytes via tus-js-client in Chromium vs minio
	$(PY) bench/web.py

clean:
	rm -rf .venv $(TOOLS)

.PHONY: bench-idle bench-load
bench-idle: install  ## the whole suite idle for 60 s: CPU of every api and worker together (budget <= 5 % of a core)
	$(PY) bench/idle.py

bench-load: install  ## 50 readers, 20 logins and 10 uploads of 50 MB at once through the gateway, with RSS growth
	$(PY) bench/load.py

# tests/deploy validates the Kubernetes custom resources (Gateway API, Traefik Middleware) against their CRDs'
# schemas with validators from the npm registry, run by node (Debian's nodejs and npm, installed when missing).
.PHONY: crd-validators
crd-validators: tests/deploy/crd/node_modules/.installed  ## the CRD schema validators for tests/deploy (npm ci)

tests/deploy/crd/node_modules/.installed: tests/deploy/crd/package.json tests/deploy/crd/package-lock.json
	@if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		echo "tests/deploy needs node and npm: installing Debian's nodejs and npm"; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; fi; \
		if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
			echo "make crd-validators: could not install node and npm; install them, then run make test again" >&2; \
			exit 1; fi; fi
	npm ci --prefix tests/deploy/crd --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@
