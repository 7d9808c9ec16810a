# Two commands: `make run` (embedded default) and `make test` (the whole suite on PostgreSQL + Redis).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite uses the PostgreSQL and Redis on localhost; override to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pan_channel
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: setup run test lint bench chromium clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  泛渠道平台 is starting on http://$(HOST):$(PORT)/"
	@echo "  手机模拟器 (WeChat sandbox): http://$(HOST):$(PORT)/sandbox/"
	@echo "  后台管理 (back office):      http://$(HOST):$(PORT)/admin/   login: admin / admin12345"
	@echo "  健康检查:                    http://$(HOST):$(PORT)/healthz"
	@echo ""
	DEBUG=1 SITE_URL=http://$(HOST):$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

# Browser tests drive Debian's Chromium (with a CJK font for readable screenshots); install
# them when missing. We never download browsers ourselves.
chromium:
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/wqy || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei)

test: setup chromium
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(PY) -m bench

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles
