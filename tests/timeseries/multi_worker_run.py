"""One Trainer process: a task's `run_fn` (the time series' unless SPEC says `task`) on a written
Transform output, as TFX calls it.

    python -m tests.timeseries.multi_worker_run SPEC.json

SPEC: {"transform_graph", "examples" (tests/timeseries/transformed.py), "model_dir" (the
Model artifact: Format-Serving is written in it), "run_dir", "custom_config"}. The cluster, if
any, comes from TF_CONFIG in the environment, as on Vertex. The data accessor is TFX's own,
made from an Examples artifact at `examples`, as the Trainer executor makes it.
"""
from __future__ import annotations

import json
import os
import sys


def fn_args(spec: dict):
    from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
    from tfx.components.util import tfxio_utils
    from tfx.types import artifact_utils, standard_artifacts

    examples = standard_artifacts.Examples()
    examples.uri = spec["examples"]
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    accessor = DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([examples], []),
        record_batch_factory=None,
        data_view_decode_fn=None,
    )
    return FnArgs(
        working_dir=spec["run_dir"],
        train_files=[os.path.join(spec["examples"], "Split-train", "*")],
        eval_files=[os.path.join(spec["examples"], "Split-eval", "*")],
        transform_graph_path=spec["transform_graph"],
        transform_output=spec["transform_graph"],
        data_accessor=accessor,
        serving_model_dir=os.path.join(spec["model_dir"], "Format-Serving"),
        model_run_dir=spec["run_dir"],
        custom_config=spec["custom_config"],
    )


def main(spec_path: str) -> None:
    with open(spec_path) as handle:
        spec = json.load(handle)
    import importlib

    module = importlib.import_module(f"tasks.{spec.get('task', 'timeseries')}.module")
    module.run_fn(fn_args(spec))
    print("run_fn finished", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
