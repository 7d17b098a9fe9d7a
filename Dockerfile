# The image every Kubeflow/Vertex pipeline step runs in (profiles' `image`): TFX's own
# base image for the pinned TFX version, plus this project, so that the module files
# (components.<task>.module) and custom components import inside the container.
#
# NOT BUILT OR TESTED HERE: the development machine has no Docker and no network.
#   docker build -t IMAGE . && docker push IMAGE     (IMAGE: the profile's `image`)
# The base image ships TFX 1.16.0 on Python 3.10, while setup.py says >=3.11 (the venv's
# Python): hence --ignore-requires-python, the same exception the Makefile makes for TFX.
# The constraints file pins the rest to the versions verified in the venv.
FROM gcr.io/tfx-oss-public/tfx:1.16.0

WORKDIR /pipeline
COPY constraints.txt setup.py ./
COPY components ./components
COPY data ./data
COPY models ./models
COPY pipeline ./pipeline
# TFX is already in the image; install the project and its pinned dependencies on top.
# gcsfs lets pandas read the profile's gs:// data URI.
RUN pip install --no-cache-dir --ignore-requires-python -c constraints.txt . gcsfs

ENV KERAS_BACKEND=tensorflow \
    TF_CPP_MIN_LOG_LEVEL=2 \
    PYTHONHASHSEED=0
# The entrypoint stays the base image's: KubeflowV2DagRunner sets each step's command
# (python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor ...).
