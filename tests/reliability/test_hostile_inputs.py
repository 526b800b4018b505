"""A corpus of hostile inputs for every user-facing field: all refused in one line, and
nothing is written outside the data root.

Fields: view names, dates, run ids, feature names, spine/output/manifest paths and the
spine's timestamp column (CLI), the vacuum retention, the Airflow training-set form, the
HTTP API's body, and the environment (project and definitions module).
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from feature_jobs.airflow_support.training_conf import check_training_conf
from feature_jobs.cli import main
from feature_jobs.errors import SkewlessError
from feature_jobs.online.store import FeatureStore
from feature_jobs.serving.app import create_app
from feature_jobs.settings import Settings
from tests.reliability.history import write_spine
from tests.reliability.invariants import REGISTRY

ESCAPE = f"skewless-escape-{uuid.uuid4().hex[:8]}"
HOSTILE = [
    f"../../{ESCAPE}",
    f"/tmp/{ESCAPE}",
    f"file:///tmp/{ESCAPE}",
    f"file:/tmp/{ESCAPE}",
    "nul\x00byte",
    'it\'s "quoted"',
    "x'; DROP TABLE offline; --",
    "2024-03-01; DROP TABLE users",
    "2024-03-01' OR '1'='1",
    "`rm -rf /`",
    "$(touch pwned)",
    "../user_stats",
    "user_stats/../../x",
    "user_stats:count_7d'--",
    "{other:user_stats}:live",
    "*",
    "\n",
    "",
    "A" * 10_000,
]
#: The hostile values that also reach the steps behind a Spark start (kept short).
SPARK_REACHING = ["x'; DROP TABLE offline; --", "`rm -rf /`", "ts` FROM t; --", "A" * 10_000]


def _cli_cases(spine: str, out: str) -> list[tuple[str, list[str]]]:
    """(field, argv with {} where the hostile value goes)."""
    return [
        ("materialize --view", ["materialize", "--view", "{}", "--date", "2024-03-01"]),
        ("materialize --date", ["materialize", "--view", "user_stats", "--date", "{}"]),
        ("materialize --start", ["materialize", "--start", "{}", "--end", "2024-03-02"]),
        ("sync --view", ["sync", "--view", "{}", "--date", "2024-03-01"]),
        ("sync --date", ["sync", "--view", "user_stats", "--date", "{}"]),
        ("sync --run-id", ["sync", "--view", "user_stats", "--date", "2024-03-01",
                           "--run-id", "{}"]),
        ("check --view", ["check", "--view", "{}", "--date", "2024-03-01"]),
        ("check --run-id", ["check", "--view", "user_stats", "--run-id", "{}"]),
        ("get --feature", ["get", "--feature", "{}", "--key", "user_id=1"]),
        ("get --key", ["get", "--view", "user_stats", "--key", "{}"]),
        ("vacuum --view", ["vacuum", "--view", "{}"]),
        ("vacuum --retain-hours", ["vacuum", "--view", "user_stats", "--retain-hours", "{}"]),
        ("training-set --spine", ["training-set", "--spine", "{}", "--features",
                                  "user_stats:count_7d", "--output", out]),
        ("training-set --features", ["training-set", "--spine", spine, "--features", "{}",
                                     "--output", out]),
        ("training-set --feature-service", ["training-set", "--spine", spine,
                                            "--feature-service", "{}", "--output", out]),
        ("training-set --output", ["training-set", "--spine", spine, "--features",
                                   "user_stats:count_7d", "--output", "{}"]),
        ("training-set --from-manifest", ["training-set", "--from-manifest", "{}",
                                          "--output", out]),
        ("training-set --mode", ["training-set", "--spine", spine, "--features",
                                 "user_stats:count_7d", "--output", out, "--mode", "{}"]),
    ]  # fmt: skip


def _files(root: Path, skip: Path) -> set[Path]:
    return {p for p in root.rglob("*") if not p.is_relative_to(skip)}


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], field: str = "") -> str:
    """Run the CLI; it must exit non-zero with one ``error:`` line (or an argparse usage)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: an unknown choice or a malformed option
        code = int(exc.code or 0)
    err = capsys.readouterr().err.strip()
    assert code != 0, f"{field} accepted: {argv!r}"
    assert "Traceback" not in err, err[-2000:]
    last = err.splitlines()[-1] if err else ""
    assert last.startswith(("error:", "usage:")) or ": error: " in last, (argv, err[-500:])
    return last


@pytest.fixture
def world(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for the reliability definitions; the working directory is the test's
    folder, outside the data root, which the test watches for anything written."""
    root = settings.data_root
    write_spine(root / "spines" / "s.parquet", [1, 2], [datetime(2024, 3, 2, 6, tzinfo=UTC)])
    cwd = tmp_path / "work" / "here"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    for name, value in {
        "SKEWLESS_DATA_ROOT": str(root),
        "SKEWLESS_PROJECT": settings.project,
        "SKEWLESS_FEATURES": "tests.reliability.defs",
        "REDIS_URL": "redis://127.0.0.1:9/0",  # never reached: every input is refused first
    }.items():
        monkeypatch.setenv(name, value)
    return settings


def test_cli_refuses_every_hostile_value(
    spark, world: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = world.data_root
    before = _files(tmp_path, root)
    spine, out = str(root / "spines" / "s.parquet"), str(root / "train" / "out")
    for field, template in _cli_cases(spine, out):
        for value in HOSTILE:
            _refused([value if a == "{}" else a for a in template], capsys, field)
    # Past the argument checks (Spark started): the run id and the spine's time column.
    for value in SPARK_REACHING:
        _refused(["materialize", "--view", "user_stats", "--date", "2024-03-01",
                  "--run-id", value], capsys)  # fmt: skip
        _refused(["training-set", "--spine", spine, "--features", "user_stats:count_7d",
                  "--output", out, "--timestamp-column", value], capsys)  # fmt: skip
    assert _files(tmp_path, root) == before, "something was written outside the data root"
    assert not list(Path("/tmp").glob(f"{ESCAPE}*"))
    # No output was written (a refused run may leave only the empty parent folder).
    assert not (root / "train" / "out").exists()
    assert not [p for p in root.glob("train/**/*") if p.is_file()]


def test_environment_values_are_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for value in ("a:b", "{x}", "x y", "../p", "*", "p;q"):
        with pytest.raises(SkewlessError, match="SKEWLESS_PROJECT"):
            Settings.from_env({"SKEWLESS_DATA_ROOT": str(tmp_path), "SKEWLESS_PROJECT": value})
    for module in ("os; import x", "../features", ".features", "/etc/passwd", "a" * 10_000):
        monkeypatch.setenv("SKEWLESS_DATA_ROOT", str(tmp_path))
        monkeypatch.setenv("SKEWLESS_FEATURES", module)
        assert "SKEWLESS_FEATURES" in _refused(["list"], capsys, "SKEWLESS_FEATURES")


def test_airflow_form_refuses_every_hostile_value(settings: Settings) -> None:
    (settings.data_root / "spines").mkdir(parents=True)
    (settings.data_root / "spines" / "s.parquet").write_bytes(b"")
    good = {"feature_service": "fraud", "spine": "spines/s.parquet", "mode": "event-time",
            "output_name": "ok"}  # fmt: skip
    check_training_conf(good, settings, REGISTRY)  # the baseline is accepted
    for field in good:
        for value in [*HOSTILE, 42, None, ["spines/s.parquet"]]:
            with pytest.raises(SkewlessError) as info:
                check_training_conf({**good, field: value}, settings, REGISTRY)
            assert "\n" not in str(info.value)[:300]


def test_http_api_refuses_every_hostile_value(settings: Settings, redis_server) -> None:  # type: ignore[no-untyped-def]
    online = dataclasses.replace(settings, redis_url=redis_server.url)
    store = FeatureStore(online, registry=REGISTRY)
    client = TestClient(create_app(store))
    bodies = []
    for value in HOSTILE:
        bodies += [
            {"features": [value], "entities": [{"user_id": 1}]},
            {"feature_service": value, "entities": [{"user_id": 1}]},
            {"features": ["user_stats:count_7d"], "entities": [{"user_id": value}]},
            {"features": ["user_stats:count_7d"], "entities": [{value: 1}]},
            {"features": ["user_stats:count_7d"], "entities": [value]},
            {"features": ["user_stats:count_7d"], "entities": [{"user_id": 1}], value: 1},
        ]
    for body in bodies:
        response = client.post("/online-features", json=body)
        assert response.status_code == 422, (body, response.text[:300])
        assert response.headers["content-type"].startswith("application/json")
    # Nothing was written: the server holds no key of this project.
    keys = list(store.client.scan_iter(match="{" + online.project + ":*"))
    store.close()
    assert keys == []
    assert os.environ.get("SKEWLESS_PROJECT") != online.project
