# A1 Wallet — the two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
PYTHON ?= python3

.PHONY: run test install install-test translations translations-update chromium lint format

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Compiled catalogues are build output: made here, never committed.
translations: install
	$(VENV)/bin/pybabel -q compile -d translations

APP_LANGUAGES := fr de
PUBLIC_ONLY_LANGUAGES := nl it es pl
EXTRACT := $(VENV)/bin/pybabel -q extract -k _l -k lazy_gettext --no-location --sort-output --project "A1 Wallet"

# After changing user-facing text: extract, merge into every catalogue, then translate the new entries.
# English, French and German cover the whole app; Dutch, Italian, Spanish and Polish the public pages.
translations-update: install
	$(EXTRACT) -F babel.cfg -o translations/messages.pot .
	$(EXTRACT) -F babel-public.cfg -o translations/public.pot .
	for lang in $(APP_LANGUAGES); do $(VENV)/bin/pybabel -q update -i translations/messages.pot \
		-d translations -l $$lang --no-fuzzy-matching --ignore-obsolete; done
	for lang in $(PUBLIC_ONLY_LANGUAGES); do \
		test -f translations/$$lang/LC_MESSAGES/messages.po || $(VENV)/bin/pybabel -q init \
			-i translations/public.pot -d translations -l $$lang; \
		$(VENV)/bin/pybabel -q update -i translations/public.pot -d translations -l $$lang \
			--no-fuzzy-matching --ignore-obsolete; done

PORT ?= 5000

# The whole product: the web server, the push relay and the scheduler of the periodic jobs
# (escalation every minute; reminders, renewals and retention daily), from the Procfile.
run: install translations
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo "A1 Wallet on http://127.0.0.1:$(PORT): web, relay, scheduler (Ctrl-C stops all three)"
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile -p $(PORT)

# Browser tests need Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install-test translations chromium
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
