# skillgrove: `make demo` and `make test` work from a fresh clone, offline once installed.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
STAMP := $(VENV)/.installed
# the packaged MiniLM converted for onnxruntime (skills/embed.py): made here, never downloaded
ONNX := $(VENV)/share/skillgrove/minilm-l6-v2.onnx
TORCH_VERSION := 2.13.0
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install demo test lint format bench clean

install: $(STAMP) $(ONNX)

# Torch goes first and pinned: an unpinned torch (pulled in by a dependency) fetches CUDA wheels.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel
	$(PIP) install torch==$(TORCH_VERSION)
	$(PIP) install -e ".[dev,ray]"
	touch $(STAMP)

$(ONNX): $(STAMP) skills/embed.py skills/index.py $(wildcard skills/seed/*.py)
	$(PY) -m skills.embed $(ONNX)

demo: $(STAMP) $(ONNX)
	$(VENV)/bin/skillgrove demo

# Two worker processes (pytest-xdist), one test file each at a time: a file's module
# fixtures (a World, a server, a trained policy) stay in one process. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: $(STAMP) $(ONNX)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check agent skills sim bench skillgrove scripts tests
	$(VENV)/bin/ruff format --check agent skills sim bench skillgrove scripts tests

format: $(STAMP)
	$(VENV)/bin/ruff format agent skills sim bench skillgrove scripts tests
	$(VENV)/bin/ruff check --fix agent skills sim bench skillgrove scripts tests

bench: $(STAMP) $(ONNX)
	$(VENV)/bin/skillgrove bench sim

clean:
	rm -rf $(VENV) build *.egg-info
