"""The layers import downwards only: pipeline/ -> components/ -> data/, models/ (pure Keras)."""
from __future__ import annotations

import pytest

from pipeline import fingerprint

FORBIDDEN = {
    "data": ("pipeline", "components", "models"),
    "models": ("pipeline", "components", "data", "tfx", "tensorflow_transform", "tensorflow_model_analysis"),
    "components": ("pipeline",),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_higher_layer(package):
    offenders = []
    for path in sorted((fingerprint.REPO_ROOT / package).rglob("*.py")):
        name = ".".join(path.relative_to(fingerprint.REPO_ROOT).with_suffix("").parts)
        for imported in fingerprint.imported_names(path, name):
            if imported.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(fingerprint.REPO_ROOT)} imports {imported}")
    assert not offenders, "\n".join(sorted(set(offenders)))


def test_the_predict_modules_do_not_import_each_other():
    root = fingerprint.REPO_ROOT
    for module, other in (("tasks/text/predict", "pipeline.predict"), ("pipeline/serving_model", "pipeline.predict")):
        imported = fingerprint.imported_names(root / f"{module}.py", module.replace("/", "."))
        assert not any(name == other or name.startswith(other + ".") for name in imported), module
