# make demo  — install everything and run the app with demo data on http://127.0.0.1:8000
#              (HOST=127.0.0.1:8100 make demo: another address; e-mailed links follow it)
# make test  — install everything and run the whole suite against PostgreSQL and Redis: in
#              parallel on every core, then the tests marked serial alone (scripts/run-tests.py)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/severa
TEST_REDIS_URL ?= redis://127.0.0.1:6379/8

.PHONY: demo test install install-test system system-browser messages lint format migrations-check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@

system:
	./scripts/install-system-packages.sh

system-browser:
	WITH_BROWSER=1 ./scripts/install-system-packages.sh

install: system $(VENV)/.installed messages

install-test: system-browser $(VENV)/.installed messages

messages: $(VENV)/.installed
	cd $(CURDIR) && $(BIN)/python manage.py compilemessages -v0 --ignore '$(VENV)/*'

# Links in e-mails point at the demo's own address unless SITE_URL says otherwise.
demo: export SITE_URL := $(or $(SITE_URL),http://$(HOST))
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Open http://$(HOST)/ and sign in with a demo login above."
	$(BIN)/python manage.py runserver $(HOST)

test: install-test
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/python scripts/test-services.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(BIN)/python scripts/run-tests.py $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check-local-imports.py
	$(BIN)/python manage.py makemigrations --check --dry-run

migrations-check: lint

format: $(VENV)/.installed
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var/staticfiles
