"""The layers import downwards only, shared code names no task, and no two modules import each other.

Bottom to top:
    data/, models/ (pure Keras)    what examples are made of, and the networks
    components/                    the shared TFX parts
    serving/, reporting/           serving a model, and the report's kit
    tasks/                         one folder per task (its bench*.py modules sit at the top)
    pipeline/, bench/              assembly, runners, CLIs; the benchmarks
A task folder imports no other task. Shared code (everything but the task folders and bench/)
learns about tasks only through the registry (tasks/__init__.py): it imports no task package
and spells no task's name or package.
"""
from __future__ import annotations

import ast
import functools
import pathlib

import pytest

import tasks
from pipeline import fingerprint

ROOT = fingerprint.REPO_ROOT
LAYERS = {"data": 0, "models": 0, "components": 1, "serving": 2, "reporting": 2, "tasks": 3, "pipeline": 4, "bench": 4}
PURE = {  # a bottom package imports no project package, nor (models) any TFX library
    "data": ("pipeline", "components", "models", "serving", "reporting", "tasks", "bench"),
    "models": ("pipeline", "components", "data", "serving", "reporting", "tasks", "bench", "tfx",
               "tensorflow_transform", "tensorflow_model_analysis"),
}  # fmt: skip
# Imports named in issue 28 as sideways: they must not come back.
SIDEWAYS = [("models.small_cnn", "models.vision_transformer")]


def module_name(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@functools.cache  # every module's imports are checked against it: one walk of the tree, not one each
def project_modules() -> dict[str, pathlib.Path]:
    return {module_name(p): p for package in LAYERS for p in sorted((ROOT / package).rglob("*.py"))}


def task_of(module: str) -> str | None:
    """The task folder a module is in, or None for shared code (tasks/__init__, tasks/taskspec)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "tasks" and len(parts) > 2 or (len(parts) == 2 and parts[0] == "tasks" and
                                                                  (ROOT / "tasks" / parts[1]).is_dir()) else None  # fmt: skip


def layer_of(module: str) -> int:
    if task_of(module) and module.split(".")[-1].startswith("bench"):
        return LAYERS["bench"]  # a task's benchmarks run its pipeline
    return LAYERS[module.split(".")[0]]


@functools.cache  # each file parsed once for all the tests
def imports_of(module: str, path: pathlib.Path) -> frozenset[str]:
    """The project modules `module` imports (at any depth of the file)."""
    modules = project_modules()
    return frozenset(name for name in fingerprint.imported_names(path, module) if name in modules and name != module)


def test_no_module_imports_a_higher_layer():
    offenders = [
        f"{module} (layer {layer_of(module)}) imports {imported} (layer {layer_of(imported)})"
        for module, path in project_modules().items()
        for imported in imports_of(module, path)
        if layer_of(imported) > layer_of(module)
    ]
    assert not offenders, "\n".join(sorted(offenders))


@pytest.mark.parametrize("package", sorted(PURE))
def test_the_bottom_layers_import_nothing_of_the_project(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for imported in fingerprint.imported_names(path, module_name(path)):
            if imported.split(".")[0] in PURE[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not offenders, "\n".join(sorted(set(offenders)))


def test_a_task_imports_no_other_task():
    offenders = [
        f"{module} imports {imported}"
        for module, path in project_modules().items()
        for imported in imports_of(module, path)
        if task_of(module) and task_of(imported) and task_of(imported) != task_of(module)
    ]
    assert not offenders, "\n".join(sorted(offenders))


def string_constants(path: pathlib.Path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Constant)
            and isinstance(node.value, str)}  # fmt: skip


def test_shared_code_names_no_task():
    """Outside the task folders and bench/, no import of a task package, no string that is a task's
    name or names its package: a sixth task edits no shared module."""
    names = set(tasks.names())
    offenders = []
    for module, path in project_modules().items():
        if task_of(module) or module.split(".")[0] == "bench" or module == "tasks":  # the registry lists them
            continue
        offenders += [f"{module} imports {imported}" for imported in imports_of(module, path) if task_of(imported)]
        offenders += [f"{module} spells {text!r}" for text in string_constants(path)
                      if text in names or any(text.startswith(f"tasks.{n}") or f"tasks/{n}" in text for n in names)]  # fmt: skip
    assert not offenders, "\n".join(sorted(offenders))


def test_no_two_modules_import_each_other_even_lazily():
    """A cycle of imports (a function-level import included) is two modules that cannot be read apart."""
    modules = project_modules()
    graph = {module: imports_of(module, path) for module, path in modules.items()}
    cycles = []

    def visit(module: str, trail: list[str], state: dict[str, int]) -> None:
        state[module] = 1
        for imported in sorted(graph[module]):
            if imported in modules and (imported + ".__init__" != module):
                if state.get(imported) == 1:
                    cycles.append(" -> ".join([*trail[trail.index(imported):], imported]) if imported in trail else imported)
                elif not state.get(imported):
                    visit(imported, [*trail, imported], state)
        state[module] = 2

    state: dict[str, int] = {}
    for module in sorted(graph):
        if not state.get(module):
            visit(module, [module], state)
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("importer, imported", SIDEWAYS)
def test_the_sideways_imports_stay_gone(importer, imported):
    assert imported not in imports_of(importer, project_modules()[importer])


# `tfx.v1` imports TFX's Google Cloud extensions and with them google.cloud.aiplatform, 2.5 s of
# every process's start-up (each pytest worker, each run). Only the Kubeflow/Vertex paths need it.
TFX_V1_ALLOWED = ("pipeline.compile", "pipeline.profile")


def _imports_tfx_v1(names) -> bool:
    return any(name == "tfx.v1" or name.startswith("tfx.v1.") for name in names)


def test_tfx_v1_is_imported_only_by_the_kubeflow_and_vertex_paths_and_only_when_called():
    modules = project_modules()
    anywhere = sorted(m for m, path in modules.items() if _imports_tfx_v1(fingerprint.imported_names(path, m)))
    assert set(anywhere) <= set(TFX_V1_ALLOWED), anywhere
    for module in TFX_V1_ALLOWED:
        top = ast.parse(modules[module].read_text()).body  # module-level statements only
        names = {f"{n.module}.{a.name}" for n in top if isinstance(n, ast.ImportFrom) for a in n.names}
        names |= {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
        assert not _imports_tfx_v1(names), f"{module} imports tfx.v1 at module level"
