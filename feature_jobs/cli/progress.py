"""Progress of long commands: one line per step, with how far the command has come.

A line per step (not a bar redrawn in place) because the same commands run under
Airflow, whose task logs keep every line: ``  [ 50%] user_transaction_stats: ...``.
"""

from __future__ import annotations

import threading

from feature_jobs.cli.common import say


class StepProgress:
    """Prints each step's line with the share of ``total`` steps done so far.

    Safe to call from several threads (views materialize side by side). A command that
    takes a shorter path (a view refused before its commit) simply never reaches 100 %;
    one that reports more steps than planned stays at 100 %.
    """

    def __init__(self, total: int) -> None:
        self.total = max(1, total)
        self.done = 0
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.done = min(self.done + 1, self.total)
            say(f"  [{100 * self.done // self.total:3d}%] {line}")
