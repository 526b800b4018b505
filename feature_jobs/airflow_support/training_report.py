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
    """The few numbers worth a glance: rows, the leakage counts, where the files are.

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
        "rows": int(document["output"]["rows"]),
        "mode": document.get("mode"),
        "feature_service": document.get("feature_service"),
        "rows_using_future_values": leakage.get("rows_using_future_values"),
        "naive_join_rows_using_future_values": leakage.get(
            "naive_join_rows_using_future_values", leakage.get("rows_leaking")
        ),
        "leakage_summary": describe(leakage) if leakage else "no leakage report",
        "output": str(document["output"]["path"]),
        "manifest": str(manifest),
    }


def summary_lines(report: dict[str, Any]) -> list[str]:
    """What the ``report`` task prints first: the outcome, then the leakage sentence."""
    what = report["feature_service"] or "the requested features"
    return [
        f"training set of {what}: {report['rows']} rows ({report['mode']}) in {report['output']}",
        report["leakage_summary"],
        f"manifest: {report['manifest']}",
    ]
