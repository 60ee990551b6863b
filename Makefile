# Two commands do all set-up: `make build` and `make test`; each creates the
# virtual environment it needs. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help build check serve new test bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/$$(PORT)/$(PORT)/g' | \
		awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

build: $(VENV)/.runtime ## build site/ from content/, with each year's PDFs (python build.py build --no-pdf: without)
	$(BIN)/python build.py build

check: $(VENV)/.runtime ## validate content/ without writing anything
	$(BIN)/python build.py check

serve: $(VENV)/.runtime ## preview with live reload on http://127.0.0.1:$(PORT)/ (drafts shown)
	$(BIN)/python build.py serve --port $(PORT)

# `make new` without its variables stops here, before anything is installed, and says which are missing.
ifneq ($(filter new,$(MAKECMDGOALS)),)
missing := $(strip $(foreach v,YEAR SECTION UNIT,$(if $($(v)),,$(v))))
ifneq ($(missing),)
$(error make new needs YEAR, SECTION and UNIT (missing: $(missing)), e.g. make new YEAR=2022 SECTION=2.4 UNIT=konsernihallinto [LANG_CODE=sv])
endif
endif

new: $(VENV)/.runtime ## write a draft: make new YEAR=2022 SECTION=2.4 UNIT=konsernihallinto [LANG_CODE=sv]
	$(BIN)/python build.py new --year "$(YEAR)" --section "$(SECTION)" --unit "$(UNIT)" $(if $(LANG_CODE),--lang "$(LANG_CODE)")

test: $(VENV)/.test ## run the linters and every test
	$(BIN)/ruff check .
	$(BIN)/mypy
	@out="$$($(BIN)/radon cc -n D sitegen)"; if [ -n "$$out" ]; then echo "radon: functions over complexity 20:"; echo "$$out"; exit 1; fi
	$(BIN)/python -m pytest

bench: $(VENV)/.runtime ## time builds at N = 100, 1 000 and 10 000 responses (SIZES=100,1000 RUNS=3 for less)
	$(BIN)/python bench/run.py --sizes "$(or $(SIZES),100,1000,10000)" --runs "$(or $(RUNS),3)"

clean: ## remove site/, the build trees and caches (not the virtual environment)
	rm -rf site .builds .cache .preview .pytest_cache
