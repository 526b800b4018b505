"""Check a training-set request coming from the Airflow form or an API trigger.

The form's JSON schema catches typos, but it cannot see the file system and a DAG may be
triggered with a conf written by hand, so the task checks the whole request again before
any Spark work: the feature service must exist, the spine must be a local path inside
the data root (no ``..``, no URL, no absolute path elsewhere, no symlink out), the mode
must be known and the output name must be a plain identifier whose folder
(``training_sets/<name>``) passes the output rule of :mod:`feature_jobs.training.paths`.
No Airflow and no Spark are imported here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from feature_jobs.definitions import Registry
from feature_jobs.errors import TrainingSetError, UnsafeInputError
from feature_jobs.settings import Settings
from feature_jobs.timeutil import require_utc
from feature_jobs.training.paths import TRAINING_SETS_FOLDER, check_output, checked_input
from feature_jobs.training.request import MODES

#: What an output name may look like (it becomes a folder name).
OUTPUT_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class TrainingConf:
    """A checked training-set request.

    Attributes:
        feature_service: a service of the definitions.
        spine: absolute path of the spine, inside the data root, existing.
        mode: ``event-time`` or ``as-known``.
        output_name: the name the user chose.
        output: absolute path of the output folder (``<data_root>/training_sets/<name>``).
    """

    feature_service: str
    spine: Path
    mode: str
    output_name: str
    output: Path

    def cli_args(self) -> list[str]:
        """Arguments of ``python -m feature_jobs`` that build this training set."""
        return [
            "training-set",
            "--feature-service",
            self.feature_service,
            "--spine",
            str(self.spine),
            "--mode",
            self.mode,
            "--output",
            str(self.output),
            # The scheduled job is a Spark job, on whatever cluster SPARK_MASTER names.
            "--engine",
            "spark",
        ]


def run_output_name(conf: Mapping[str, object], run_after: datetime) -> object:
    """The output name of a run: the form's, or ``<feature service>_<YYYYMMDD_HHMMSS>``.

    An empty name means "a new one for this run", made from the feature service and the
    run's time (UTC): a default in the form would name the same folder on every run and
    the second run would be refused (an existing output is never overwritten). Anything
    else is returned as given, for :func:`check_training_conf` to check.
    """
    name = conf.get("output_name")
    if name is not None and not (isinstance(name, str) and not name.strip()):
        return name
    service = re.sub(r"[^a-z0-9_]", "_", str(conf.get("feature_service") or "training_set").lower())
    return f"{service[:48]}_{require_utc(run_after, 'run_after'):%Y%m%d_%H%M%S}"


def output_folder(settings: Settings, name: str) -> Path:
    """Where a training set called ``name`` is written."""
    return settings.data_root / TRAINING_SETS_FOLDER / name


def check_training_conf(
    conf: Mapping[str, object], settings: Settings, registry: Registry
) -> TrainingConf:
    """Check every field of a request; the first bad one raises with a one-line fix.

    Raises:
        TrainingSetError: unknown feature service or mode, or the output exists already.
        UnsafeInputError: a spine path outside the data root, or a bad output name.
    """
    service = _text(conf, "feature_service")
    if service not in registry.services:
        raise TrainingSetError(
            f"feature_service {service!r} is unknown; choose one of: "
            f"{', '.join(sorted(registry.services))}"
        )
    spine = check_spine(_text(conf, "spine"), settings)
    mode = _text(conf, "mode")
    if mode not in MODES:
        raise TrainingSetError(f"mode {mode!r} is unknown; choose one of: {', '.join(MODES)}")
    name = _text(conf, "output_name")
    if not OUTPUT_NAME.fullmatch(name):
        raise UnsafeInputError(
            f"output_name {name!r} is invalid; use 1-64 lowercase letters, digits or '_'"
        )
    output = output_folder(settings, name)
    if output.exists():
        raise TrainingSetError(
            f"output_name {name!r} exists already ({output}); choose another name"
        )
    # The rule every output follows (the build checks it again): training_sets/ itself
    # may be a link into the warehouse, or hold the spine.
    check_output(output, False, settings, [spine], registry, flag=f"output_name {name!r}:")
    return TrainingConf(
        feature_service=service, spine=spine, mode=mode, output_name=name, output=output
    )


def check_spine(text: str, settings: Settings) -> Path:
    """Absolute path of an existing spine inside the data root.

    Relative paths are relative to the data root (what a UI user sees), not to the
    worker's working directory.
    """
    if "://" in text or text.startswith("~") or "\\" in text or "\x00" in text:
        raise UnsafeInputError(
            f"spine {text!r} is not a local path under the data root; give a path such as "
            "raw/labels"
        )
    if ".." in PurePosixPath(text).parts:
        raise UnsafeInputError(f"spine {text!r} contains '..'; give a path under the data root")
    path = checked_input(settings.data_root / text, settings, "spine")
    if not path.exists():
        raise TrainingSetError(
            f"spine {text!r} does not exist under the data root {settings.data_root}; "
            "check the path"
        )
    return path


def _text(conf: Mapping[str, object], key: str) -> str:
    value = conf.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UnsafeInputError(f"{key} is missing or not a string; fill it in the trigger form")
    return value.strip()
