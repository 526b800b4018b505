"""Settings read once from the environment and passed around as a value, never a global."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from feature_jobs.errors import ConfigError


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where data lives and which services to talk to.

    Attributes:
        data_root: folder holding raw source data (relative source paths resolve here).
        delta_root: folder (or s3a:// URI) holding the Delta tables (offline, quarantine, logs),
            laid out by :mod:`feature_jobs.offline.layout`.
        redis_url: Redis URL; None means "start the embedded redis-server".
        spark_master: Spark master URL, ``local[*]`` by default.
        project: namespace of the online keys, so several projects can share one Redis.
        features_module: module holding the feature definitions.
        jars_dir: folder with the Delta Lake jars fetched by ``make setup``.
        alert_webhook: URL receiving alert POSTs (Slack-compatible JSON), optional.
        alert_jsonl: file receiving one JSON alert per line, optional.
        alert_email: recipients of alert emails (``SKEWLESS_ALERT_EMAIL``, comma-separated);
            sent through Airflow's SMTP settings when running under Airflow.
        local_engine_memory: memory the local training engine may use
            (``SKEWLESS_LOCAL_ENGINE_MEMORY``, bytes or ``512MB`` / ``2GB``): ``engine="auto"``
            picks it only for inputs that fit, and its joins spill to disk beyond it.
    """

    data_root: Path
    delta_root: str
    redis_url: str | None = None
    spark_master: str = "local[*]"
    project: str = "skewless"
    features_module: str = "features"
    jars_dir: Path = field(default_factory=lambda: _project_root() / ".cache" / "jars")
    alert_webhook: str | None = None
    alert_jsonl: Path | None = None
    alert_email: tuple[str, ...] = ()
    shuffle_partitions: int = 4
    local_engine_memory: int = 2 * 1024**3

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from environment variables (``os.environ`` by default)."""
        env = dict(os.environ if env is None else env)
        data_root = Path(env.get("SKEWLESS_DATA_ROOT", "./data")).resolve()
        delta_root = env.get("DELTA_ROOT") or str(data_root / "warehouse")
        if "://" not in delta_root:
            delta_root = str(Path(delta_root).resolve())
        project = env.get("SKEWLESS_PROJECT", "skewless")
        if not project.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(
                f"SKEWLESS_PROJECT={project!r} is invalid: use letters, digits, '-' or '_'"
            )
        try:
            shuffle = int(env.get("SKEWLESS_SHUFFLE_PARTITIONS", "4"))
        except ValueError as exc:
            raise ConfigError("SKEWLESS_SHUFFLE_PARTITIONS must be an integer, e.g. 8") from exc
        jsonl = env.get("SKEWLESS_ALERT_JSONL")
        emails = tuple(
            a.strip() for a in env.get("SKEWLESS_ALERT_EMAIL", "").split(",") if a.strip()
        )
        return cls(
            data_root=data_root,
            delta_root=delta_root,
            redis_url=env.get("REDIS_URL") or None,
            spark_master=env.get("SPARK_MASTER", "local[*]"),
            project=project,
            features_module=env.get("SKEWLESS_FEATURES", "features"),
            jars_dir=Path(env.get("SKEWLESS_JARS_DIR", str(_project_root() / ".cache" / "jars"))),
            alert_webhook=env.get("SKEWLESS_ALERT_WEBHOOK") or None,
            alert_jsonl=Path(jsonl) if jsonl else None,
            alert_email=emails,
            shuffle_partitions=shuffle,
            local_engine_memory=_bytes(
                env.get("SKEWLESS_LOCAL_ENGINE_MEMORY", "2GB"), "SKEWLESS_LOCAL_ENGINE_MEMORY"
            ),
        )

    def resolve_source_path(self, path: str) -> str:
        """Resolve a source path: URIs and absolute paths as given, others under data_root."""
        if "://" in path or path.startswith("/"):
            return path
        return str(self.data_root / path)


_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def _bytes(text: str, name: str) -> int:
    """``"2GB"``, ``"512MB"`` or a plain number of bytes."""
    value = text.strip().upper()
    number = value.rstrip("KMGTB")
    unit = value[len(number) :]
    if not number.isdigit() or unit not in _UNITS or int(number) <= 0:
        raise ConfigError(f"{name}={text!r} is invalid; write a size such as 2GB or 512MB")
    return int(number) * _UNITS[unit]
