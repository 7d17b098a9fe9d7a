"""Pusher: TFX's Pusher, whose write to the serving directory is atomic.

TFX's Pusher copies the model file by file into `<serving_dir>/<version>/` (with
`saved_model.pb` last). A run killed in the middle leaves a numeric directory that
a model server, `make predict` or `make serve` takes for a complete version. This
executor copies into a staging directory whose name is not a number (so TF Serving
and `serving/serving_model.py` ignore it), then renames it to the version: readers
see either no version or a complete one. Staging directories left by a killed push
are removed by the next push. Versions are Unix timestamps, as TFX's, and always
greater than the newest existing one.

On a local filesystem the rename is atomic. On gs:// a rename is a copy and a
delete, so a model server there should watch for `saved_model.pb`, which is
written last into the staging directory before the rename.
"""
from __future__ import annotations

import os
import time

from absl import logging
from tfx.components.pusher import executor as tfx_pusher
from tfx.components.pusher.component import Pusher as TfxPusher
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from components.export import serving_versions

STAGING_PREFIX = ".staging-"  # not a number: never read as a version


def copy_model(model_path: str, destination: str) -> None:
    """Copy a SavedModel with `saved_model.pb` last (what TF Serving waits for)."""
    io_utils.copy_dir(model_path, destination, deny_regex_patterns=[r"saved_model\.pb"])
    saved_model = os.path.join(model_path, "saved_model.pb")
    if fileio.exists(saved_model):
        io_utils.copy_file(saved_model, os.path.join(destination, "saved_model.pb"))


def push_atomically(model_path: str, base_directory: str) -> tuple[str, str]:
    """(version, its directory): a new complete version under `base_directory`."""
    fileio.makedirs(base_directory)
    for name in fileio.listdir(base_directory):  # left by a push that was killed
        if name.strip("/").startswith(STAGING_PREFIX):
            fileio.rmtree(os.path.join(base_directory, name.strip("/")))
    known = serving_versions(base_directory)
    version = str(max(int(time.time()), known[-1] + 1 if known else 0))
    staging = os.path.join(base_directory, f"{STAGING_PREFIX}{version}")
    copy_model(model_path, staging)
    serving_path = os.path.join(base_directory, version)
    fileio.rename(staging, serving_path)
    return version, serving_path


class Executor(tfx_pusher.Executor):
    def Do(self, input_dict, output_dict, exec_properties) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(output_dict[standard_component_specs.PUSHED_MODEL_KEY])
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(model_push)
            return
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        if destination.WhichOneof("destination") != "filesystem":
            raise NotImplementedError("this Pusher pushes to a filesystem destination only")
        model_path = self.GetModelPath(input_dict)
        version, serving_path = push_atomically(model_path, destination.filesystem.base_directory)
        logging.info("Model written to serving path %s.", serving_path)
        io_utils.copy_dir(model_path, model_push.uri)  # the archive copy, as TFX's Pusher keeps
        self._MarkPushed(model_push, pushed_destination=serving_path, pushed_version=version)


class Pusher(TfxPusher):
    """TFX's Pusher with the atomic executor above (same inputs, outputs and properties)."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
