"""The remote image runs the code the tests check: same Python, same install, same lock.

Docker cannot run on this machine, so the Dockerfile is checked against the Makefile and
setup.py as text: a base image on another Python (TFX's own image is 3.10) or an install
that bypasses `make setup` would fail here instead of on every remote step.
"""
from __future__ import annotations

import re

from data.config import REPO_ROOT
from pipeline import fingerprint

DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
MAKEFILE = (REPO_ROOT / "Makefile").read_text()
SETUP = (REPO_ROOT / "setup.py").read_text()


def test_base_image_python_is_the_one_setup_py_requires():
    base = re.search(r"^FROM\s+python:(\d+)\.(\d+)[\w.-]*", DOCKERFILE, re.M)
    assert base, "the image must build on an official python:<version> base image"
    version = (int(base.group(1)), int(base.group(2)))
    lower, upper = re.search(r'python_requires=">=(\d+\.\d+),<(\d+\.\d+)"', SETUP).groups()
    as_tuple = lambda v: tuple(int(p) for p in v.split("."))  # noqa: E731
    assert as_tuple(lower) <= version < as_tuple(upper)
    assert f"PYTHON_BOOT ?= python{version[0]}.{version[1]}" in MAKEFILE  # the Makefile's Python too


def test_image_installs_with_the_makefile_and_its_lock():
    assert re.search(r"^RUN make setup\b", DOCKERFILE, re.M)
    for needed in ("Makefile", "constraints.txt", "setup.py"):
        assert re.search(rf"^COPY .*\b{re.escape(needed)}\b", DOCKERFILE, re.M), needed
    assert "-c constraints.txt" in MAKEFILE  # `make setup` pins through the lock file
    for folder in fingerprint.PROJECT_PACKAGES:  # every package setup.py installs
        assert re.search(rf"^COPY {folder} ", DOCKERFILE, re.M), folder
    assert not re.search(r"^FROM gcr.io/tfx-oss-public", DOCKERFILE, re.M)
