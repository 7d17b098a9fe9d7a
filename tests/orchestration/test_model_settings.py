"""The `model:` settings, read only by a task's Trainer, are checked when the pipeline is built
(tasks/model_settings.py): an unknown key or a bad augmentation range stops the run before
anything runs, naming the key, instead of being ignored or failing in the Trainer after
ExampleGen, statistics and Transform."""
import ast
import importlib
import pathlib

import pytest

import tasks
from pipeline.config import load_config
from pipeline.create_pipeline import create_pipeline
from tasks import model_settings

CASES = [
    ("vision", "model.elastic=-1", "`model.elastic` (-1)"),
    ("vision", "model.shift=wide", "`model.shift` ('wide')"),
    ("vision", "model.elastic_sigma=0", "`model.elastic_sigma` (0)"),
    ("speech", "model.augmentation.noise=-1", "`model.augmentation.noise` (-1) must be a number >= 0"),
    ("speech", "model.augmentation.time_masks=1.5", "`model.augmentation.time_masks` (1.5) must be a whole number"),
    ("speech", "model.augmentation.speed=1", "`model.augmentation.speed` (1) must be < 1"),
    ("speech", "model.augmentation.time_mask_fraction=2", "`model.augmentation.time_mask_fraction` (2) must be <= 1"),
    ("speech", "model.augmentation.nois=0", "unknown keys in 'model.augmentation': ['nois']"),
    ("speech", "model.augmentation=3", "`model.augmentation` must map Augmentation fields to values"),
    ("speech", "model.augmentation=0", "`model.augmentation` must map Augmentation fields to values"),
    *[(task, "model.num_layerz=3", "unknown keys in 'model': ['num_layerz'] (known: [") for task in tasks.names()],
]


@pytest.mark.parametrize("task, override, named", CASES)
def test_a_bad_model_setting_stops_the_pipeline_before_it_runs_naming_the_key(tmp_path, task, override, named):
    config = load_config(task, overrides=[override], output_dir=str(tmp_path))
    with pytest.raises(ValueError, match=f"the {task} config") as error:
        create_pipeline(config)
    assert named in str(error.value)
    assert not list(tmp_path.iterdir())  # nothing written: no pipeline root, no store


@pytest.mark.parametrize("task", tasks.names())
def test_the_shipped_configs_have_no_model_problems(task):
    assert model_settings.problems(load_config(task)) == []


def _aliases_of_model(tree: ast.AST) -> set[str]:
    """Names bound to `<something>.model` (`series, fixed = config.series, config.model`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = zip(target.elts, node.value.elts, strict=True) if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple) else [(target, node.value)]
                names |= {t.id for t, v in pairs if isinstance(t, ast.Name) and isinstance(v, ast.Attribute) and v.attr == "model"}
    return names


def model_keys_read(folder: pathlib.Path) -> set[str]:
    """The string keys a task folder's code reads from its `model:` settings: `choose("key", ...)`
    (components.training.choose and its local wrappers), and `.get("key")`, `["key"]` and
    `"key" in` on `config.model` or a name bound to it. Benchmarks set keys; they do not read them."""
    found = set()
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("bench"):
            continue
        tree = ast.parse(path.read_text())
        aliases = _aliases_of_model(tree)

        def is_model(node, aliases=aliases) -> bool:
            return (isinstance(node, ast.Attribute) and node.attr == "model") or (isinstance(node, ast.Name) and node.id in aliases)

        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                keys = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if keys and (name == "choose" or (name == "get" and is_model(func.value))):
                    found.add(keys[0])
            elif isinstance(node, ast.Subscript) and is_model(node.value) and isinstance(node.slice, ast.Constant):
                found.add(node.slice.value)
            elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant) and is_model(node.comparators[0]):
                found.add(node.left.value)
    return found


@pytest.mark.parametrize("task", tasks.names())
def test_model_keys_declares_every_key_the_task_reads_and_no_other(task):
    module = importlib.import_module(tasks.spec(task).module)
    read = model_keys_read(pathlib.Path(module.__file__).parent)  # the task's folder, wherever it is registered from
    read |= set(getattr(module, "AUGMENTATION_KEYS", ()))  # read by their dataclass's field names (vision)
    read |= {module.AUGMENTATION_KEY} if hasattr(module, "AUGMENTATION_KEY") else set()  # one nested mapping (speech)
    assert read and set(module.MODEL_KEYS) == read, {"undeclared": read - set(module.MODEL_KEYS), "not read": set(module.MODEL_KEYS) - read}
