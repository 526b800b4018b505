"""Benchmark: does each special layer of the online store pay for itself?

Each layer is measured side by side with the plain alternative, alternating in one run on
the workloads of ``sync_bench.py`` and ``online_read_bench.py`` (one view, 100,000
entities x 8 doubles):

* the hand-packed RESP writer of the executors against a redis-py pipeline
  (``HSET key mapping`` + ``PEXPIRE`` per bucket, ``transaction=False``);
* fixed-width binary rows against JSON rows, on the sync and on reads;
* the read path's caches (request plans; decoded snapshot schemas and snapshot times)
  against building them on every call.

    .venv/bin/python bench/online_layers_bench.py --entities 100000 --rounds 5 --calls 2000

Figures and the machine they ran on go to bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.online_views import REGISTRY, bench_stats  # noqa: E402
from bench.sync_bench import write_offline  # noqa: E402
from feature_jobs.online import codec as codec_module  # noqa: E402
from feature_jobs.online import publish as publish_module  # noqa: E402
from feature_jobs.online import sync as sync_module  # noqa: E402
from feature_jobs.online import writer as writer_module  # noqa: E402
from feature_jobs.online.codec import RowCodec  # noqa: E402
from feature_jobs.online.store import FeatureStore  # noqa: E402
from feature_jobs.online.writer import PartitionWriter  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402

FEATURES = [f"bench_stats:{f.name}" for f in bench_stats.features]


# -- the plain alternatives (defined here, so Spark ships them to its Python workers) ----


def pipeline_write_batch(
    client: Any,
    prefix: str,
    buckets: int,
    fields: Sequence[bytes],
    values: Sequence[bytes],
    ttl_ms: int,
) -> None:
    """What ``write_batch`` does, through redis-py's own pipeline."""
    from feature_jobs.online import keys

    groups: dict[int, dict[bytes, bytes]] = {}
    for field, value in zip(fields, values, strict=True):
        groups.setdefault(keys.key_hash(field) % buckets, {})[field] = value
    pipe = client.pipeline(transaction=False)
    for bucket, mapping in groups.items():
        key = f"{prefix}{bucket}"
        pipe.hset(key, mapping=mapping)
        pipe.pexpire(key, ttl_ms)
    pipe.execute()


class JsonRowCodec(RowCodec):
    """The codec with binary rows switched off: every snapshot is JSON text."""

    @classmethod
    def for_types(cls, types: Sequence[str]) -> RowCodec:
        return RowCodec(tuple(types), None)


class VariantWriter(PartitionWriter):
    """The executors' writer with a plain layer swapped in, inside the Python worker."""

    plain_writes: bool = False
    json_rows: bool = False

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        saved = writer_module.write_batch, writer_module.RowCodec
        if self.plain_writes:
            writer_module.write_batch = pipeline_write_batch
        if self.json_rows:
            writer_module.RowCodec = JsonRowCodec  # type: ignore[misc]
        try:
            yield from super().__call__(batches)
        finally:
            writer_module.write_batch, writer_module.RowCodec = saved  # type: ignore[misc]


def writer_class(plain_writes: bool, json_rows: bool) -> type[PartitionWriter]:
    return type("Writer", (VariantWriter,), {"plain_writes": plain_writes, "json_rows": json_rows})


class NoPlanCacheStore(FeatureStore):
    """The SDK resolving the requested features into a plan on every call."""

    def _plan(self, features: Any) -> Any:
        return self._build_plan(features)


class NoSnapshotCacheStore(FeatureStore):
    """The SDK parsing the live snapshot's schema and time on every call."""

    def _time(self, raw: bytes) -> datetime:
        return codec_module.micros_to_datetime(int(raw))

    def _schema(self, raw: bytes, names: tuple[str, ...]) -> Any:
        self._schemas.clear()
        return super()._schema(raw, names)


# -- measuring -----------------------------------------------------------------------------


def sync_once(spark: Any, settings: Any, day: date, plain_writes: bool, json_rows: bool) -> float:
    """One end-to-end sync of the bench snapshot with the given layers; its seconds."""
    sync_module.PartitionWriter = writer_class(plain_writes, json_rows)  # type: ignore[misc]
    publish_module.RowCodec = JsonRowCodec if json_rows else RowCodec  # type: ignore[misc]
    try:
        result = sync_module.sync(spark, settings, bench_stats, day, grace=timedelta(0))
    finally:
        sync_module.PartitionWriter = PartitionWriter  # type: ignore[misc]
        publish_module.RowCodec = RowCodec  # type: ignore[misc]
    assert result.published and result.rows > 0, result
    return float(result.seconds)


def read_samples(store: FeatureStore, size: int, calls: int, entities: int) -> list[int]:
    rng = random.Random(size)
    batches = [[{"user_id": rng.randrange(entities)} for _ in range(size)] for _ in range(calls)]
    for batch in batches[:200]:
        store.get_online_features(FEATURES, batch)
    samples = []
    for batch in batches:
        t0 = time.perf_counter_ns()
        store.get_online_features(FEATURES, batch)
        samples.append(time.perf_counter_ns() - t0)
    return samples


def p50_p99(samples: list[int]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] / 1e6, ordered[int(len(ordered) * 0.99)] / 1e6


def compare(name: str, special: float, plain: float, unit: str) -> str:
    saving = (plain - special) / plain
    return f"{name}: special {special:.3f} {unit}, plain {plain:.3f} {unit}, saves {saving:+.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    from feature_jobs.online.connection import connect
    from feature_jobs.settings import Settings
    from feature_jobs.spark.session import build_spark

    root = Path(tempfile.mkdtemp(prefix="skewless-layers-bench-"))
    server = RedisServer(root / "redis").start()
    settings = Settings.from_env(
        {
            "SKEWLESS_DATA_ROOT": str(root),
            "SPARK_MASTER": "local[2]",
            "REDIS_URL": server.url,
            "SKEWLESS_PROJECT": "bench",
            "SKEWLESS_FEATURES": "bench.online_views",
        }
    )
    load_before = os.getloadavg()
    spark = build_spark(settings, "skewless-bench-layers")
    # Yesterday's snapshot: fresh for the reads below (statuses PRESENT).
    day = datetime.now(UTC).date() - timedelta(days=1)
    write_offline(spark, settings, day, args.entities, 4)

    variants: dict[str, tuple[bool, bool]] = {
        "RESP writer + binary rows (shipped)": (False, False),
        "redis-py pipeline + binary rows": (True, False),
        "RESP writer + JSON rows": (False, True),
    }
    client = connect(server.url)
    empty = client.info("memory")["used_memory"]
    sync_module.sync(spark, settings, bench_stats, day, grace=timedelta(0))  # JVM warm-up
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, (plain_writes, json_rows) in variants.items():
            seconds[name].append(sync_once(spark, settings, day, plain_writes, json_rows))

    memory: dict[str, float] = {}
    for rows, json_rows in (("binary", False), ("JSON", True)):
        sync_once(spark, settings, day, False, json_rows)
        time.sleep(1.0)  # the superseded snapshot (grace 0) expires
        memory[rows] = (client.info("memory")["used_memory"] - empty) / args.entities
    stores: dict[str, FeatureStore] = {}
    for rows, json_rows in (("binary", False), ("JSON", True)):
        # A second project holds this encoding's snapshot for the reads.
        project = f"bench_{rows.lower()}"
        other = Settings.from_env({**os.environ, **settings_env(settings, project)})
        sync_module.PartitionWriter = writer_class(False, json_rows)  # type: ignore[misc]
        publish_module.RowCodec = JsonRowCodec if json_rows else RowCodec  # type: ignore[misc]
        try:
            sync_module.sync(spark, other, bench_stats, day, grace=timedelta(0))
        finally:
            sync_module.PartitionWriter = PartitionWriter  # type: ignore[misc]
            publish_module.RowCodec = RowCodec  # type: ignore[misc]
        stores[rows] = FeatureStore(other, registry=REGISTRY)
    binary_settings = Settings.from_env({**os.environ, **settings_env(settings, "bench_binary")})
    stores["binary, no plan cache"] = NoPlanCacheStore(binary_settings, registry=REGISTRY)
    stores["binary, no schema/time caches"] = NoSnapshotCacheStore(
        binary_settings, registry=REGISTRY
    )
    spark.stop()

    reads: dict[tuple[str, int], list[int]] = {}
    for _ in range(2):  # two alternating passes; samples pooled
        for size in (1, 100):
            for name, store in stores.items():
                reads.setdefault((name, size), []).extend(
                    read_samples(store, size, args.calls, args.entities)
                )
    load_after = os.getloadavg()

    print(f"machine: {platform.node()} {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    print(
        f"workload: 1 view, {args.entities} entities x 8 doubles; {args.rounds} alternating "
        f"sync rounds; {2 * args.calls} SDK reads per variant and size"
    )
    for name, values in seconds.items():
        print(
            f"sync, {name}: median {statistics.median(values):.3f} s "
            f"(all: {', '.join(f'{v:.2f}' for v in values)})"
        )
    shipped = statistics.median(seconds["RESP writer + binary rows (shipped)"])
    print(
        compare(
            "sync, RESP writer vs redis-py pipeline",
            shipped,
            statistics.median(seconds["redis-py pipeline + binary rows"]),
            "s",
        )
    )
    print(
        compare(
            "sync, binary vs JSON rows",
            shipped,
            statistics.median(seconds["RESP writer + JSON rows"]),
            "s",
        )
    )
    print(f"Redis memory per entity: binary {memory['binary']:.0f} B, JSON {memory['JSON']:.0f} B")
    for size in (1, 100):
        for name in stores:
            p50, p99 = p50_p99(reads[(name, size)])
            print(f"read, {size} entities, {name}: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
        binary = p50_p99(reads[("binary", size)])
        print(compare(f"read {size}, binary vs JSON rows, p50", binary[0],
                      p50_p99(reads[("JSON", size)])[0], "ms"))  # fmt: skip
        for cache in ("plan cache", "schema/time caches"):
            plain = p50_p99(reads[(f"binary, no {cache}", size)])[0]
            print(compare(f"read {size}, {cache} vs none, p50", binary[0], plain, "ms"))
    for store in stores.values():
        store.close()
    client.close()
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def settings_env(settings: Any, project: str) -> dict[str, str]:
    """The environment of ``settings`` with another project (key namespace)."""
    return {
        "SKEWLESS_DATA_ROOT": str(settings.data_root),
        "REDIS_URL": settings.redis_url or "",
        "SKEWLESS_PROJECT": project,
        "SKEWLESS_FEATURES": "bench.online_views",
        "SPARK_MASTER": settings.spark_master,
    }


if __name__ == "__main__":
    main()
