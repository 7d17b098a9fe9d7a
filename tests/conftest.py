"""Shared test setup: Keras 3 on the TensorFlow backend, quiet TensorFlow logs.

Set before any test module imports keras, so a bare `pytest` behaves like `make test`.
"""
import functools
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tests.e2e.user_run import (  # noqa: E402, F401  (the session's shared run)
    READERS,
    shared_user_run,
)


def pytest_collection_modifyitems(config, items):
    """End-to-end tests first in a module-by-module run (`pytest` without xdist); under xdist
    the scheduler below does the same per module."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)  # stable: order kept within each


@functools.cache
def has_e2e_tests(root: pathlib.Path, scope: str) -> bool:
    """Whether a module (an xdist scope: its path from the root dir) marks tests `e2e`."""
    path = root / scope.split("::")[0]
    return path.is_file() and "pytest.mark.e2e" in path.read_text()


# The slowest modules, slowest first (`make test PYTEST_ARGS=--durations=80`, this machine): started
# first, so that none of them starts late and runs on alone. Other end-to-end modules follow.
SLOWEST_FIRST = (
    "tests/e2e/test_continuous_training.py",  # 4 simulated days and a rerun: 400 s under load
    "tests/e2e/test_cache_and_recovery.py",  # 4 runs, one killed: 210 s
    "tests/text/test_pipeline_e2e.py",  # 2 runs: 175 s
    "tests/speech/test_pipeline_e2e.py",
    READERS[0],  # the user run on the portable runner and its readers: 115 s
    "tests/e2e/test_timeseries_pipeline.py",
)


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadscope` (make test), end-to-end modules first, `SLOWEST_FIRST` first among
    them: a worker takes the next module when it is free, so the pipeline runs, minutes each,
    start at once and the unit modules fill the gaps, instead of a long run starting last and
    running alone. xdist's own order is by test count, which put the 4-day simulation (6
    tests, 3 to 6 minutes) behind the large unit modules; the item order of the hook above
    does not reach it. The modules that read the shared user run (`READERS`) are one
    unit of work, so that its session fixture is made once, on one worker."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class EndToEndFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return READERS[0] if scope in READERS else scope

        def _assign_work_unit(self, node):
            if not getattr(self, "ordered", False):  # the queue is full now: reorder it once
                self.ordered = True
                heavy = [s for s in self.workqueue if has_e2e_tests(config.rootpath, s)]
                heavy.sort(key=lambda s: SLOWEST_FIRST.index(s) if s in SLOWEST_FIRST else len(SLOWEST_FIRST))
                for scope in reversed(heavy):
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return EndToEndFirst(config, log)
