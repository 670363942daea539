# The two commands of the README: `make run` (the demo) and `make test` (the whole suite).
# Both set up what they need from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint setup browser-check prism sandbox worker beat clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# The demo's address; e.g. `make run DEMO_ADDR=127.0.0.1:18000 SANDBOX_PORT=18025`.
DEMO_ADDR ?= 127.0.0.1:8000

## make run: install, migrate, seed the demo, start the Twilio sandbox, serve http://$(DEMO_ADDR)/
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --url http://$(DEMO_ADDR)/
	$(BIN)/python manage.py runserver_demo $(DEMO_ADDR)

## make test: the whole suite (SQLite unless DATABASE_URL is set), with lint and type checks first
test: $(STAMP) browser-check prism check
	$(BIN)/pytest --cov --cov-report=term:skip-covered

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run

browser-check:
	@test -x /usr/bin/chromium || { echo "Debian's Chromium is missing: sudo apt-get install -y chromium"; exit 1; }

prism: node_modules/.bin/prism

node_modules/.bin/prism: package.json
	npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error
	touch node_modules/.bin/prism

worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) var node_modules
