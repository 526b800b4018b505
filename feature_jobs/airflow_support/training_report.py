"""What the training-set DAG reports once the job is done, read from the manifest.

The manifest is the job's own record of what it wrote (row count, leakage report,
checksum), so the DAG reports from it rather than from parsing the job's log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from feature_jobs.errors import TrainingSetError
from feature_jobs.training.leakage import describe
from feature_jobs.training.paths import manifest_path


def read_report(output: str | Path) -> dict[str, Any]:
    """Row count, leakage report (numbers and one line) and paths of a built training set.

    Raises:
        TrainingSetError: the manifest is missing or unreadable (the job did not finish).
    """
    manifest = manifest_path(Path(output))
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingSetError(
            f"manifest {manifest} cannot be read ({exc}); rerun the training-set job"
        ) from None
    leakage = document.get("leakage") or {}
    return {
        "row_count": int(document["output"]["rows"]),
        "leakage": leakage,
        "leakage_summary": describe(leakage) if leakage else "no leakage report",
        "manifest": str(manifest),
        "output": str(document["output"]["path"]),
        "mode": document.get("mode"),
        "feature_service": document.get("feature_service"),
    }
