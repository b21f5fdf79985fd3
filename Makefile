# Frontyard's tasks. `make run` and `make test` are the two commands README promises.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCALES := ja ja_easy en zh_Hans zh_Hant ko vi pt_BR es tl ne id
PYTEST_ARGS ?=
# Past days of demo history `make run` plays through the queue engine (0: none).
DEMO_DAYS ?= 30

.PHONY: run test lint i18n-extract i18n-update i18n-init migration clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Serve Frontyard on SQLite with demo data.
run: $(STAMP)
	$(BIN)/frontyard db upgrade
	$(BIN)/frontyard demo --days $(DEMO_DAYS)
	$(BIN)/frontyard serve

## Run the whole test suite (browser tests included).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

## Translations: extract strings into messages.pot, merge into every catalog.
i18n-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -k lazy_gettext -k deferred -o locales/messages.pot .

i18n-update: i18n-extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete

i18n-init: i18n-extract
	for code in $(LOCALES); do \
	  test -f locales/$$code/LC_MESSAGES/messages.po || \
	  $(BIN)/pybabel init -i locales/messages.pot -d locales -l $$code; \
	done

## Catalogs are compiled in memory at start-up; this writes .mo files for other tools.
i18n-compile: $(STAMP)
	$(BIN)/pybabel compile -d locales --statistics

## A new migration from the models: make migration MESSAGE="add x"
migration: $(STAMP)
	$(BIN)/python -c "from alembic import command; from frontyard.database import alembic_config; \
	  from frontyard.settings import Settings; \
	  command.revision(alembic_config(Settings().resolved_database_url()), message='$(MESSAGE)', autogenerate=True)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
