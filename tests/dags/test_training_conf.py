"""The training-set request check the DAG runs before any Spark work (pure Python)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feature_jobs.airflow_support.training_conf import (
    OUTPUT_NAME,
    check_training_conf,
    output_folder,
    run_output_name,
)
from feature_jobs.definitions import load_registry
from feature_jobs.errors import TrainingSetError, UnsafeInputError
from feature_jobs.settings import Settings

REGISTRY = load_registry("features")


def _conf(**changes: object) -> dict[str, object]:
    conf: dict[str, object] = {
        "feature_service": "fraud_model_v1",
        "spine": "raw/labels",
        "mode": "event-time",
        "output_name": "fraud_v1_train",
    }
    conf.update(changes)
    return conf


@pytest.fixture
def root(settings: Settings) -> Path:
    (settings.data_root / "raw" / "labels").mkdir(parents=True)
    return settings.data_root


def test_valid_request_gives_the_cli_arguments(settings: Settings, root: Path) -> None:
    checked = check_training_conf(_conf(mode="as-known"), settings, REGISTRY)
    assert checked.spine == (root / "raw" / "labels").resolve()
    assert checked.output == root / "training_sets" / "fraud_v1_train"
    assert checked.cli_args() == [
        "training-set",
        "--feature-service",
        "fraud_model_v1",
        "--spine",
        str((root / "raw" / "labels").resolve()),
        "--mode",
        "as-known",
        "--output",
        str(root / "training_sets" / "fraud_v1_train"),
        "--engine",
        "spark",
    ]


def test_absolute_spine_inside_the_data_root_is_accepted(settings: Settings, root: Path) -> None:
    checked = check_training_conf(_conf(spine=str(root / "raw" / "labels")), settings, REGISTRY)
    assert checked.spine == (root / "raw" / "labels").resolve()


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"spine": "../outside"}, UnsafeInputError, "spine '../outside' contains '..'"),
        ({"spine": "raw/../raw/labels"}, UnsafeInputError, "contains '..'"),
        ({"spine": "/etc"}, UnsafeInputError, "outside the data root"),
        ({"spine": "s3a://bucket/labels"}, UnsafeInputError, "not a local path"),
        ({"spine": "file:///etc/passwd"}, UnsafeInputError, "not a local path"),
        ({"spine": "~/labels"}, UnsafeInputError, "not a local path"),
        ({"spine": "raw/missing"}, TrainingSetError, "does not exist"),
        ({"spine": ""}, UnsafeInputError, "spine is missing"),
        ({"feature_service": "nope"}, TrainingSetError, "feature_service 'nope' is unknown"),
        ({"mode": "latest"}, TrainingSetError, "mode 'latest' is unknown"),
        ({"output_name": "Bad-Name"}, UnsafeInputError, "output_name 'Bad-Name' is invalid"),
        ({"output_name": "a" * 65}, UnsafeInputError, "is invalid"),
        ({"output_name": "x/../../y"}, UnsafeInputError, "is invalid"),
        ({"output_name": 7}, UnsafeInputError, "output_name is missing or not a string"),
    ],
)
def test_bad_requests_are_refused_with_the_field_named(
    settings: Settings, root: Path, changes: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(".", r"\.")):
        check_training_conf(_conf(**changes), settings, REGISTRY)


def test_symlink_out_of_the_data_root_is_refused(
    settings: Settings, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "raw" / "link").symlink_to(outside)
    with pytest.raises(UnsafeInputError, match="outside the data root"):
        check_training_conf(_conf(spine="raw/link"), settings, REGISTRY)


def test_existing_output_is_not_overwritten(settings: Settings, root: Path) -> None:
    (root / "training_sets" / "taken").mkdir(parents=True)
    with pytest.raises(TrainingSetError, match="output_name 'taken' exists already"):
        check_training_conf(_conf(output_name="taken"), settings, REGISTRY)


@pytest.mark.parametrize("empty", [None, "", "  "])
def test_an_empty_output_name_is_a_new_one_per_run(
    settings: Settings, root: Path, empty: object
) -> None:
    first_run = datetime(2026, 12, 7, 5, 30, 12, tzinfo=UTC)
    first = run_output_name(_conf(output_name=empty), first_run)
    assert first == "fraud_model_v1_20261207_053012"
    checked = check_training_conf(_conf(output_name=first), settings, REGISTRY)
    checked.output.mkdir(parents=True)  # the first run wrote it
    # The next trigger with the same form gets a folder of its own, and is accepted.
    second = run_output_name(_conf(output_name=empty), first_run + timedelta(minutes=3))
    assert second == "fraud_model_v1_20261207_053312"
    assert check_training_conf(_conf(output_name=second), settings, REGISTRY).output == (
        output_folder(settings, second)
    )


def test_a_given_output_name_is_kept_and_a_long_service_still_fits() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    assert run_output_name(_conf(output_name="mine"), now) == "mine"
    assert run_output_name(_conf(output_name=7), now) == 7  # left for the check to refuse
    name = run_output_name(_conf(output_name=None, feature_service="A-" + "x" * 80), now)
    assert OUTPUT_NAME.fullmatch(str(name)) and str(name).startswith("a_xxx")
