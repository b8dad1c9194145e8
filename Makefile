# rocketce-power: the two commands that matter are `make demo` and `make test`.
# Every target calls `setup` first, so a fresh clone needs nothing else.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        := $(CURDIR)/.venv
PY          := $(VENV)/bin/python
COLLECTION  := collections/ansible_collections/rocketce/power
LAB_STATE   ?= /var/tmp/rocketce-lab
DEMO_EXPECT_UNCHANGED ?=
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles
export ROCKETCE_LAB_STATE := $(LAB_STATE)
export PYTHONDONTWRITEBYTECODE := 1

# Molecule scenarios run one after another (2 cores); `lab` first (cheapest), `default` (site.yml) last.
MOLECULE_ORDER := lab hmc lpar ids fraud default
MOLECULE_SCENARIOS ?= $(foreach s,$(MOLECULE_ORDER),$(if $(wildcard molecule/$(s)/molecule.yml),$(s)))

# pytest runs one process per group: ansible-core patches interpreter internals on import (sys.intern) that
# torch's compiler refuses, so the Ansible side and each app are tested in processes of their own.
comma := ,
space := $(subst ,, )
PYTEST_GROUPS := $(subst $(space),$(comma),$(strip $(wildcard tests/unit tests/integration $(COLLECTION)/tests/unit))) \
                 $(wildcard lab/hmcsim/tests) $(wildcard apps/*/tests)

# Python packages of this repo installed editable into the venv (each has its own pyproject.toml).
LOCAL_PACKAGES := $(wildcard lab/hmcsim/pyproject.toml apps/ids/pyproject.toml apps/fraud/pyproject.toml)

.PHONY: help setup system-packages venv lint unit sanity molecule test demo lab-up lab-down lab-reset lab-status \
        fleet-up fleet-down docs collection-build clean bench

help:
	@echo "make demo   - set up everything, bring the lab up, run site.yml on it, print a summary"
	@echo "make test   - set up everything and run every test (lint, unit, sanity, molecule)"
	@echo "make lab-up | lab-down | lab-status - the lab (HMC simulator + systemd lab hosts)"
	@echo "make fleet-up | fleet-down - the simulated fleet (lab/fleet.yml: HMC simulators only)"
	@echo "make bench  - run every benchmark (bench/*.py), write artifacts/bench/report.json + report.md"
	@echo "  (not part of make test; BENCH_ONLY=\"ids_serve_bench ...\" runs only those)"
	@echo "make lab-reset - fresh lab hosts and the HMC simulator back at its model (the next demo shows a DPO again)"
	@echo "LAB_STATE=DIR (default $(LAB_STATE)) picks the lab's state dir; DEMO_EXPECT_UNCHANGED=1 makes"
	@echo "  \`make demo\` fail unless site.yml changed nothing"

## ---------------------------------------------------------------- setup
setup: system-packages venv

system-packages:
	@lab/setup/system-packages.sh

venv: $(VENV)/.installed

$(VENV)/.installed: lab/requirements/controller.txt lab/requirements/constraints.txt $(LOCAL_PACKAGES)
	@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==25.3
	$(PY) -m pip install -q -r lab/requirements/controller.txt -c lab/requirements/constraints.txt
	$(if $(LOCAL_PACKAGES),$(PY) -m pip install -q -c lab/requirements/constraints.txt $(foreach p,$(LOCAL_PACKAGES),-e $(dir $(p))))
	@touch $@

## ---------------------------------------------------------------- tests
lint: setup
	ruff check .
	yamllint -s .
	ansible-lint --offline --profile production

unit: setup
	@rc=0; for group in $(PYTEST_GROUPS); do \
	  echo "=== pytest $${group//,/ }"; pytest -q -p no:cacheprovider --import-mode=importlib $${group//,/ } || rc=1; \
	done; exit $$rc

sanity: setup
	lab/setup/sanity.sh $(COLLECTION)

molecule: setup
	@for s in $(MOLECULE_SCENARIOS); do echo "=== molecule test -s $$s"; molecule test -s $$s || exit 1; done

test: setup lint unit sanity molecule
	@echo "make test: all stages passed (lint, unit, sanity, molecule: $(MOLECULE_SCENARIOS))"

## ---------------------------------------------------------------- ansible-core matrix
# Every ansible-core version the collection claims (lab/requirements/ansible-core-matrix.txt) is tested: the
# controller's pin in .venv by `unit` and `sanity`, each other one in a venv of its own (.venv/core/<version>, pins
# from constraints.txt less ansible-core) by `core-matrix`: CORE_MATRIX_TESTS, then ansible-test sanity.
# `make core-matrix CORE_MATRIX="2.19.0 2.19.14"` runs any of them (the controller's too) in their own venvs.
CORE_MATRIX_FILE := lab/requirements/ansible-core-matrix.txt
CORE_VERSIONS    := $(shell sed -n 's/^ansible-core==//p' $(CORE_MATRIX_FILE))
CONTROLLER_CORE  := $(shell sed -n 's/^ansible-core==//p' lab/requirements/constraints.txt)
CORE_MATRIX      ?= $(filter-out $(CONTROLLER_CORE),$(CORE_VERSIONS))
CORE_VENVS       := $(VENV)/core
# The tests that exercise ansible-core itself: module and plugin unit tests, the HMC modules end to end against
# the simulator, the collection's build + install + ansible-doc.
CORE_MATRIX_TESTS := $(COLLECTION)/tests/unit $(wildcard tests/integration/test_hmc_modules_sim.py \
                     tests/integration/test_hmc_client.py) tests/integration/test_collection_install.py

.PHONY: core-matrix $(addprefix core-matrix-,$(CORE_VERSIONS))
.PRECIOUS: $(CORE_VENVS)/%/.installed
core-matrix: $(addprefix core-matrix-,$(CORE_MATRIX))

$(addprefix core-matrix-,$(CORE_VERSIONS)): core-matrix-%: setup $(CORE_VENVS)/%/.installed
	@start=$$SECONDS; export PATH=$(CORE_VENVS)/$*/bin:$$PATH; \
	  echo "=== ansible-core $$(ansible --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p'): $(CORE_MATRIX_TESTS)"; \
	  pytest -q -p no:cacheprovider --import-mode=importlib $(CORE_MATRIX_TESTS); \
	  unit=$$((SECONDS - start)); echo "=== ansible-core $*: ansible-test sanity"; \
	  lab/setup/sanity.sh $(COLLECTION); \
	  echo "=== ansible-core $*: unit $${unit}s, sanity $$((SECONDS - start - unit))s (venv made before)"

$(CORE_VENVS)/%/.installed: $(CORE_MATRIX_FILE) lab/requirements/core-matrix.txt lab/requirements/constraints.txt
	@grep -qx 'ansible-core==$*' $(CORE_MATRIX_FILE) || { echo "ansible-core $* is not in $(CORE_MATRIX_FILE)"; exit 1; }
	rm -rf $(@D) && python3.11 -m venv $(@D)
	$(@D)/bin/python -m pip install -q --upgrade pip==25.3
	$(@D)/bin/python -m pip install -q 'ansible-core==$*' -r lab/requirements/core-matrix.txt -e lab/hmcsim \
	  -c <(grep -v '^ansible-core==' lab/requirements/constraints.txt)
	@touch $@

test: core-matrix

## ---------------------------------------------------------------- lab and demo
lab-up: setup
	$(PY) lab/labctl.py up

lab-down: setup
	$(PY) lab/labctl.py down

lab-reset: setup
	$(PY) lab/labctl.py reset

lab-status: setup
	$(PY) lab/labctl.py status

# The simulated fleet (lab/fleet.yml): HMC simulators only, up or down in seconds.
fleet-up: setup
	$(PY) lab/labctl.py fleet up

fleet-down: setup
	$(PY) lab/labctl.py fleet down

demo: setup lab-up
	DEMO_EXPECT_UNCHANGED=$(DEMO_EXPECT_UNCHANGED) lab/demo.sh

## ---------------------------------------------------------------- benchmarks
# Not part of `make test` (benchmarks are not timed tests): every bench/*.py with `def main(argv)` and --json,
# one after another, figures with their baseline and ratio in artifacts/bench/report.{json,md}.
BENCH_ONLY ?=
bench: setup
	$(PY) bench/run.py --out $(CURDIR)/artifacts/bench $(foreach b,$(BENCH_ONLY),--only $(b))

docs: setup
	$(PY) lab/setup/gen_docs.py

collection-build: setup
	cd $(COLLECTION) && ansible-galaxy collection build --force --output-path $(CURDIR)/build

clean: lab-down
	rm -rf build .pytest_cache
