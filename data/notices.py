"""The project's logger for what a user should act on (a gap in the data, a deployed model
that could not be compared...). The local runner shows its records on the terminal
(pipeline/console.py); everything else a run logs goes only to the run's log file."""
from __future__ import annotations

import logging

NOTICE_LOGGER = "tfx_transformers"


PROGRESS_LOGGER = "tfx_transformers_progress"  # one line per trial, epoch or rollout: shown, never acted on


def notices() -> logging.Logger:
    return logging.getLogger(NOTICE_LOGGER)


def progress() -> logging.Logger:
    """The logger of progress lines (`Trainer: epoch 3/10 ...`), which the local runner's terminal
    shows beside each component's start and end; they also reach the run's log."""
    return logging.getLogger(PROGRESS_LOGGER)
