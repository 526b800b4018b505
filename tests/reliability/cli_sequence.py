"""Run several CLI commands in one process (one Spark driver), each with its own env.

``python -m tests.reliability.cli_sequence STEPS.json`` where the file holds a list of
``{"env": {NAME: value or null}, "args": [...]}``. Each step runs
``python -m feature_jobs <args>`` in-process after applying its env (null unsets), and a
line ``step <i> exit <code>`` is printed. Starting Spark once keeps the tests that need a
real child process (output captured at the file-descriptor level, a real cluster driver)
affordable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from feature_jobs.cli import main


def run(steps_file: Path) -> int:
    """Run every step; the exit code is the number of steps that exited non-zero."""
    failed = 0
    for i, step in enumerate(json.loads(steps_file.read_text())):
        for name, value in step.get("env", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            code = main(step["args"])
        except SystemExit as exc:  # argparse refusals
            code = int(exc.code or 0)
        print(f"step {i} exit {code}", flush=True)
        failed += code != 0
    return failed


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
