"""The manifest written next to every training set, and reading it back for a rebuild.

``<output>.manifest.json`` pins everything the output depends on: the spine (path,
format, fingerprint), the requested features and their definition versions, the mode,
the Delta version read per view (and, in as-known mode, the sync-log version and each
publication used with its Delta version), plus the output's row count and checksum
and the code version. ``--from-manifest`` reads the same versions again.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feature_jobs import __version__
from feature_jobs.errors import TrainingSetError

FORMAT = 1


@dataclass(frozen=True)
class Pins:
    """What a rebuild must read again, and what its inputs must still look like."""

    spine_fingerprint: str
    definition_versions: dict[str, str]
    view_versions: dict[str, int] = field(default_factory=dict)
    sync_log_version: int | None = None
    checksum: str | None = None


@dataclass(frozen=True)
class ManifestRequest:
    """The request recorded in a manifest (paths absolute, as first given)."""

    spine: str
    spine_format: str
    timestamp_column: str
    features: list[str]
    mode: str
    output_format: str
    feature_service: str | None
    pins: Pins
    keep_spine_order: bool = False


def code_version() -> dict[str, str | None]:
    """The package version, and the git commit when running from a checkout."""
    sha = None
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if done.returncode == 0:
            sha = done.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        sha = None
    return {"skewless": __version__, "git_sha": sha}


def render(manifest: dict[str, Any]) -> str:
    """The manifest as stable, human-readable JSON."""
    return json.dumps({"format": FORMAT, **manifest}, indent=2, sort_keys=False, default=str) + "\n"


def load(path: Path) -> ManifestRequest:
    """Read a manifest for a rebuild.

    Raises:
        TrainingSetError: missing, unreadable, or not a skewless training-set manifest.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrainingSetError(f"--from-manifest {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise TrainingSetError(f"--from-manifest {path} is not readable JSON ({exc})") from None
    try:
        if data["format"] != FORMAT:
            raise TrainingSetError(
                f"--from-manifest {path} has format {data['format']}; this skewless reads "
                f"format {FORMAT}"
            )
        views = data["views"]
        sync_log = data.get("sync_log") or {}
        pins = Pins(
            spine_fingerprint=data["spine"]["fingerprint"],
            definition_versions={n: v["definition_version"] for n, v in views.items()},
            view_versions={
                n: int(v["delta_version"]) for n, v in views.items() if "delta_version" in v
            },
            sync_log_version=sync_log.get("delta_version"),
            checksum=data["output"]["checksum"],
        )
        return ManifestRequest(
            spine=data["spine"]["path"],
            spine_format=data["spine"]["format"],
            timestamp_column=data["spine"]["timestamp_column"],
            features=list(data["features"]),
            mode=data["mode"],
            output_format=data["output"]["format"],
            feature_service=data.get("feature_service"),
            pins=pins,
            keep_spine_order=bool(data["output"].get("keep_spine_order", False)),
        )
    except (KeyError, TypeError) as exc:
        raise TrainingSetError(
            f"--from-manifest {path} is not a training-set manifest (no field {exc})"
        ) from None
