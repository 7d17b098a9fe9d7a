"""The project's logger for what a user should act on (a gap in the data, a deployed model
that could not be compared...). The local runner shows its records on the terminal
(pipeline/console.py); everything else a run logs goes only to the run's log file."""
from __future__ import annotations

import logging

NOTICE_LOGGER = "tfx_transformers"


def notices() -> logging.Logger:
    return logging.getLogger(NOTICE_LOGGER)
