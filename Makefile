# Tongban: two set-up commands, `make run` and `make test` (see README.md).
# Both install everything they need from the package registries (PyPI, npm)
# into .venv and node_modules, pinned by constraints.txt and package-lock.json.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make

.PHONY: run test screenshots lint typecheck contracts contracts-check deps bench clean soak fonts-if-root webwallet-bundle

$(STAMPS)/venv: pyproject.toml constraints.txt
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: $(STAMPS)/venv $(STAMPS)/npm

# The store tests start their own PostgreSQL server from Debian's package
# (tests/helpers/postgres.py): installed here when run as root, else asked for.
$(STAMPS)/postgresql:
	@mkdir -p $(STAMPS)
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
	else \
		echo "PostgreSQL is missing; the store tests need it: ask an administrator to install Debian's postgresql package (apt-get install -y postgresql)" >&2; \
		exit 1; \
	fi
	@if [ "$$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then \
		useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres; \
	fi
	@touch $@

# The printed certificate's CJK font (api/paper/render.py; docs/paper-certificate.md):
# Debian's fonts-wqy-microhei, installed here when run as root, else asked for.
$(STAMPS)/fonts:
	@mkdir -p $(STAMPS)
	@if find /usr/share/fonts /usr/local/share/fonts -name wqy-microhei.ttc 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-wqy-microhei; \
	else \
		echo "The CJK font for printed certificates is missing: ask an administrator to install Debian's fonts-wqy-microhei package (apt-get install -y fonts-wqy-microhei)" >&2; \
		exit 1; \
	fi
	@touch $@

# The portal's browser tests (tests/portal/test_browser.py; docs/portal.md) drive Debian's
# chromium through Playwright (never `playwright install`: no browser downloads).
$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	else \
		echo "Chromium is missing; the portal's browser tests need it: ask an administrator to install Debian's chromium package (apt-get install -y --no-install-recommends chromium)" >&2; \
		exit 1; \
	fi
	@touch $@

# `make run` does not need the font to serve: without it, certificate.pdf answers 503.
fonts-if-root:
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory $(STAMPS)/fonts; \
	elif ! find /usr/share/fonts /usr/local/share/fonts -name wqy-microhei.ttc 2>/dev/null | grep -q .; then \
		echo "warning: printed certificates need Debian's fonts-wqy-microhei (apt-get install -y fonts-wqy-microhei); serving without them" >&2; \
	fi

## Start the province service on the embedded chain, seeded with the demo consortium
## (Ctrl-C stops it; TONGBAN_DEMO=0 starts it without the demo).
run: deps fonts-if-root
	TONGBAN_DEMO=$${TONGBAN_DEMO:-1} TONGBAN_LOG_FORMAT=$${TONGBAN_LOG_FORMAT:-text} $(BIN)/tongban serve

## Lint, type check, contract reproducibility, then the whole test suite, one file per
## worker process (TB_TEST_WORKERS, default 2: most tests wait on nodes and servers).
test: deps $(STAMPS)/postgresql $(STAMPS)/fonts $(STAMPS)/chromium lint typecheck contracts-check
	$(BIN)/pytest -n $${TB_TEST_WORKERS:-2} --dist loadfile

## Refresh the portal's screenshots in docs/images (docs/portal.md) from the browser tests,
## on purpose: a plain test run writes them to build/screenshots instead.
screenshots: deps $(STAMPS)/fonts $(STAMPS)/chromium
	TONGBAN_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/pytest -q -p no:cacheprovider tests/portal/test_browser*.py

## Not part of `make test`: kill -9 the service 50 times (TB_E2E_KILLS) while
## `tongban issue --batch` issues a file; every line must be issued exactly once. Then
## 10,000 证照标识 (TB_ZZ_CERTIFICATES) from two issuing processes killed 3 times.
soak: deps
	TB_E2E_KILLS=$${TB_E2E_KILLS:-50} $(BIN)/pytest -q -s tests/e2e/test_issue_exactly_once.py
	TB_ZZ_CERTIFICATES=$${TB_ZZ_CERTIFICATES:-10000} $(BIN)/pytest -q -s tests/e2e/test_identifier_allocation.py

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: deps
	$(BIN)/mypy

## Recompile contracts/src into contracts/build (commit the result).
contracts: deps
	$(BIN)/python scripts/build_contracts.py

contracts-check: deps
	$(BIN)/python scripts/build_contracts.py --check

## Rebuild the browser wallet's SM2/SM3 module api/webwallet/static/sm.js with the pinned
## esbuild (commit the result; tests/webwallet/test_sm_bundle.py checks it is reproducible).
webwallet-bundle: deps
	$(BIN)/python scripts/build_webwallet.py

clean:
	rm -rf $(VENV) node_modules $(STAMPS) .mypy_cache .pytest_cache .ruff_cache .hypothesis
