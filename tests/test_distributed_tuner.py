"""`tuner.parallel_trials`: KerasTuner's distributed mode with the project's Tuner, for real.

A chief oracle and two tuner workers, three processes on 127.0.0.1 (tests/distributed_tuner_run.py),
as TFX's Vertex Tuner starts them on its replicas: every trial runs once, on a worker; the first
is the search space's defaults; each worker says each of its trials (its oracle is KerasTuner's
`OracleClient`, which has none of the local oracle's bookkeeping); the chief knows the best.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e  # three processes that import TensorFlow

MAX_TRIALS = 3
TIMEOUT_S = 240  # three imports of TensorFlow and three tiny trials take about 20 s on two idle cores


def test_two_workers_share_the_trials_the_chief_hands_out(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "tests.distributed_tuner_run", str(tmp_path), str(MAX_TRIALS)]
    env = {**os.environ, "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    processes = {role: subprocess.Popen(command, env={**env, "KERASTUNER_TUNER_ID": role}, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)  # fmt: skip
                 for role in ("chief", "tuner0", "tuner1")}
    try:
        out = {role: p.communicate(timeout=TIMEOUT_S)[0] for role, p in processes.items()}
    finally:
        for p in processes.values():
            p.kill()
    for role, p in processes.items():
        assert p.returncode == 0, (role, out[role][-3000:])
    said = [int(n) for role in ("tuner0", "tuner1") for n in re.findall(rf"Tuner: trial (\d+)/{MAX_TRIALS}, val_loss [0-9.]+, best [0-9.]+", out[role])]
    assert sorted(said) == list(range(1, MAX_TRIALS + 1))  # each trial once, on one worker or the other
    trials = json.loads(next(line for line in out["chief"].splitlines() if line.startswith("trials "))[len("trials "):])
    assert len(trials) == MAX_TRIALS and all(status == "COMPLETED" for status, _ in trials.values())
    assert trials[min(trials)][1] == {"units": 7, "lr": 0.01}  # the first trial: the defaults
    best = json.loads(next(line for line in out["chief"].splitlines() if line.startswith("best "))[len("best "):])
    assert best in [values for _, values in trials.values()]
