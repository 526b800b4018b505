"""``training-set``: join features to a spine, point in time, and write it with a manifest."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from feature_jobs.cli.common import registry, say, start_spark
from feature_jobs.cli.progress import StepProgress
from feature_jobs.disk import size_on_disk
from feature_jobs.errors import TrainingSetError
from feature_jobs.settings import Settings
from feature_jobs.training import TrainingSetRequest
from feature_jobs.training import manifest as manifest_io
from feature_jobs.training.engines import ENGINES, build
from feature_jobs.training.paths import (
    check_output,
    checked_input,
    checked_path,
    spine_format,
)
from feature_jobs.training.request import (
    MODES,
    OUTPUT_FORMATS,
    SPINE_FORMATS,
    resolve_features,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Spines up to this size make a short job (the short-job JVM profile of
#: feature_jobs.spark.jvm_options): measured faster with a 14 MB Parquet spine of 1M rows,
#: slower with a 41 MB one of 3M rows (bench/README.md, "Training sets").
SHORT_JOB_SPINE_BYTES = 24 * 1024 * 1024

DESCRIPTION = """\
Build a training set: every spine row exactly once (duplicates kept, spine columns and
order preserved), then one column per feature named <view>__<feature>, then per view
<view>__status (PRESENT, MISSING or STALE) and <view>__feature_ts (the snapshot used).

event-time (default): each row gets the latest snapshot of each view with
feature_ts <= ts; older than the view's max_age -> STALE, entity absent -> MISSING, with
the same default rule online reads apply. as-known: each row gets exactly what the
online store was serving at ts (from the sync log, through Delta time travel).

Spine timestamps must be instants (Parquet/Delta TIMESTAMP, or RFC 3339 text with an
offset such as 2024-03-01T12:00:00Z or +02:00, converted to UTC). Spine and output must be
under SKEWLESS_DATA_ROOT (every file of a spine folder too, links resolved). The output
may not be, hold or lie inside the warehouse, raw data, a source, the embedded Redis
folder, another Delta table or an input (conventionally: training_sets/<name>);
--overwrite replaces only a previous training set. Writes <output> and
<output>.manifest.json; --from-manifest rebuilds the same output.

Engines (--engine): spark runs the join as a Spark job (what the scheduled DAG and any
cluster run); local runs it in this process with DuckDB over the Parquet files of the
same pinned Delta versions. Both give the same rows, checksum and manifest. auto (the
default) picks local when SPARK_MASTER is local and the inputs fit
SKEWLESS_LOCAL_ENGINE_MEMORY (default 2GB), and Spark otherwise, or for inputs only Spark
reads faithfully (CSV spines, text timestamps, Delta deletion vectors).
"""


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "training-set",
        help="point-in-time join of features onto a spine of (keys, timestamp, labels)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--spine", help="spine file or folder (Parquet, CSV or Delta)")
    parser.add_argument(
        "--spine-format", choices=SPINE_FORMATS, default="auto", help="default: guessed"
    )
    features = parser.add_mutually_exclusive_group()
    features.add_argument("--features", help="comma-separated view:feature list")
    features.add_argument("--feature-service", help="a feature service from the definitions")
    parser.add_argument("--output", required=True, help="output folder (under the data root)")
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, default=None)
    parser.add_argument("--mode", choices=MODES, default=None, help="default: event-time")
    parser.add_argument(
        "--timestamp-column", default=None, help="spine column with each row's time (default: ts)"
    )
    parser.add_argument("--from-manifest", help="rebuild exactly what this manifest describes")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a previous training set (its manifest beside it)",
    )
    parser.add_argument(
        "--keep-spine-order",
        action="store_true",
        help="write rows in the spine's order (costs one more shuffle of the output)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="auto (default): local when the master is local and the inputs fit, else spark",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    reg = registry(settings)
    pins = None
    inputs: list[Path] = []
    if args.from_manifest:
        conflicting = [
            flag
            for flag, value in (
                ("--spine", args.spine),
                ("--features", args.features),
                ("--feature-service", args.feature_service),
                ("--mode", args.mode),
                ("--timestamp-column", args.timestamp_column),
            )
            if value
        ]
        if conflicting:
            raise TrainingSetError(
                f"{conflicting[0]} cannot be combined with --from-manifest (the manifest "
                "fixes it); drop it"
            )
        inputs.append(checked_path(args.from_manifest, settings, "--from-manifest"))
        recorded = manifest_io.load(inputs[-1])
        pins = recorded.pins
        refs, service = resolve_features(reg, recorded.features, None)
        spine = checked_input(recorded.spine, settings, "spine of the manifest")
        request = TrainingSetRequest(
            spine=spine,
            spine_format=spine_format(spine, recorded.spine_format),
            timestamp_column=recorded.timestamp_column,
            features=refs,
            output=checked_path(args.output, settings, "--output"),
            output_format=args.output_format or recorded.output_format,
            mode=recorded.mode,  # type: ignore[arg-type]
            overwrite=args.overwrite,
            feature_service=recorded.feature_service,
            keep_spine_order=recorded.keep_spine_order or args.keep_spine_order,
        )
    else:
        if not args.spine:
            raise TrainingSetError("--spine is required (or --from-manifest)")
        refs, service = resolve_features(
            reg, args.features.split(",") if args.features else None, args.feature_service
        )
        spine = checked_input(args.spine, settings, "--spine")
        request = TrainingSetRequest(
            spine=spine,
            spine_format=spine_format(spine, args.spine_format),
            timestamp_column=args.timestamp_column or "ts",
            features=refs,
            output=checked_path(args.output, settings, "--output"),
            output_format=args.output_format or "parquet",
            mode=args.mode or "event-time",
            overwrite=args.overwrite,
            feature_service=service,
            keep_spine_order=args.keep_spine_order,
        )
    # Before Spark starts: a refused output costs no JVM (the job checks it again).
    check_output(request.output, request.overwrite, settings, [*inputs, request.spine], reg)

    def spark() -> SparkSession:
        short_job = size_on_disk(request.spine) <= SHORT_JOB_SPINE_BYTES
        return start_spark(settings, "skewless-training-set", short_job=short_job)

    # engine chosen, spine read, spine checked, inputs pinned, joined and written, leakage
    progress = StepProgress(6)
    result = build(args.engine, settings, reg, request, spark, pins=pins, progress=progress)
    for view, counts in result.status_counts.items():
        say(f"{view}: " + ", ".join(f"{status} {n}" for status, n in counts.items()))
    say(
        f"done: {result.rows} rows written to {result.output} in {result.seconds:.1f}s "
        f"by the {result.engine} engine "
        f"(checksum {result.checksum}); manifest {result.manifest}"
    )
    return 0
