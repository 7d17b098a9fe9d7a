"""Content fingerprints that make TFX's cache follow the code and the data.

TFX keys a cached execution on its inputs and execution properties. A `module_file`
is hashed, but the dotted `preprocessing_fn`, `tuner_fn` and `run_fn` paths this
project uses are not, nor is the code of a custom component or a TFMA metric. So
`create_pipeline` passes each component a fingerprint of the project source it runs:
the module it names and every project module that module imports, followed
transitively through the import statements (`source_fingerprint`). Editing
`models/forecaster.py` then reruns the Tuner, Trainer, Evaluator and Scorer, while
the ExampleGen (which never imports `models/`) stays cached.

The fingerprint is computed when the pipeline is built, from the checkout that builds
it: for Kubeflow/Vertex that is the checkout the image is built from.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import pathlib
from collections.abc import Iterable

from data.config import REPO_ROOT

PROJECT_PACKAGES = ("components", "data", "models", "pipeline", "reporting", "serving", "tasks")


def project_packages() -> set[str]:
    """This repository's packages, and the top package of any task registered from elsewhere."""
    import tasks

    return set(PROJECT_PACKAGES) | {module.split(".")[0] for module in tasks.REGISTRY.values()}


def module_path(name: str) -> pathlib.Path | None:
    """The file of a project module (`models.forecaster` -> models/forecaster.py), or None."""
    top = name.split(".")[0]
    if top in PROJECT_PACKAGES:
        base = REPO_ROOT.joinpath(*name.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None
    if top not in project_packages():
        return None
    try:  # a task registered from its own folder (tasks.register): wherever Python finds it
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return pathlib.Path(found.origin) if found and found.origin and found.origin.endswith(".py") else None


def imported_names(path: pathlib.Path, name: str) -> set[str]:
    """Every module name `path` imports, at any depth of the file (functions included).

    `from a import b` yields both `a` and `a.b`, since `b` may be a submodule.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def source_closure(roots: Iterable[str]) -> list[pathlib.Path]:
    """The files of `roots` and of every project module they import, transitively."""
    seen: dict[str, pathlib.Path] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        path = module_path(name)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".")
        pending += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages' __init__.py
        pending += imported_names(path, name)
    return sorted(set(seen.values()))


def digest(chunks: Iterable[bytes]) -> str:
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(len(chunk).to_bytes(8, "little"))
        hasher.update(chunk)
    return hasher.hexdigest()


@functools.cache
def _source_fingerprint(roots: tuple[str, ...]) -> str:
    files = source_closure(roots)
    return digest(b for path in files for b in (str(label(path)).encode(), path.read_bytes()))


def label(path: pathlib.Path) -> pathlib.Path:
    """A file's name in the fingerprint: relative to the repository (the same on every machine)."""
    return path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path


def source_fingerprint(*roots: str) -> str:
    """sha256 over the paths and contents of `source_closure(roots)`.

    Cached per process: a pipeline is built from one state of the checkout. Tests
    that edit files call `source_fingerprint.cache_clear()`.
    """
    missing = [r for r in roots if module_path(r) is None]
    if missing:
        raise ValueError(f"no project module {missing} under {REPO_ROOT}")
    return _source_fingerprint(tuple(sorted(roots)))


source_fingerprint.cache_clear = _source_fingerprint.cache_clear  # type: ignore[attr-defined]


def file_fingerprint(path: str) -> str:
    """Content hash of an input file, or of a folder (every file's path under it and its
    content), so that cached components rerun when the data changes."""
    hasher = hashlib.sha256()
    root = pathlib.Path(path)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    for file in files:
        if root.is_dir():
            hasher.update(file.relative_to(root).as_posix().encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda handle=handle: handle.read(1 << 20), b""):
                hasher.update(block)
    return hasher.hexdigest()
