# Two entry points (see README): `make demo` runs the main job, `make test` runs the tests.
# Both create .venv/ first. CONSTRAINTS pins torch/torchvision for the reference machine
# (x86_64, CPU, Python 3.11); on your own CUDA stack run `make CONSTRAINTS= setup` or `pip install -e .`.
PYTHON ?= python3
VENV := .venv
CONSTRAINTS ?= constraints/cpu-x86_64.txt
PIP_C := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)
STAMP := $(VENV)/.visionr1-installed
RUN_DIR ?= runs/demo

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(wildcard constraints/*.txt)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q $(PIP_C) -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/visionr1 demo --out $(RUN_DIR)

test: setup
	$(VENV)/bin/python -m pytest

bench: setup
	for f in benchmarks/*.py; do echo "== $$f"; $(VENV)/bin/python $$f || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
