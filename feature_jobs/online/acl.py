"""The Redis ACL users skewless needs: a writer for sync, a read-only user for serving.

Give each its own password and put it only in the environment (``REDIS_URL`` of the
sync jobs, of the serving process) or in an Airflow connection, never in a file of the
repository. Both users are confined to the project's keys (every key skewless writes
starts with ``{<project>:``, see ``keys.py``); neither may run administrative or
keyspace-wide commands (``@dangerous``: FLUSHALL, CONFIG, KEYS, DEBUG, SHUTDOWN...;
and SCAN, which would list other projects' key names).
Commands a Lua script calls are checked against the calling user too, so the reader's
read script cannot write even though it runs through EVALSHA.

Example (``redis-cli``, project ``skewless``)::

    ACL SETUSER skewless-writer on >WRITER_PASSWORD ~{skewless:* +@all -@dangerous -scan
    ACL SETUSER skewless-reader on >READER_PASSWORD ~{skewless:* -@all +@read
        +@connection -@dangerous -scan +eval +evalsha +script|load

then ``REDIS_URL=redis://skewless-writer:WRITER_PASSWORD@host:6379/0`` for sync and
``REDIS_URL=redis://skewless-reader:READER_PASSWORD@host:6379/0`` for ``serve``.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["writer", "reader"]


def acl_rules(role: Role, project: str) -> list[str]:
    """The ACL rules (without user name and password) of ``role`` for ``project``."""
    keys = "~{" + project + ":*"
    if role == "writer":
        return ["on", keys, "+@all", "-@dangerous", "-scan"]
    return [
        "on",
        keys,
        "-@all",
        "+@read",
        "+@connection",
        "-@dangerous",
        "-scan",
        "+eval",
        "+evalsha",
        "+script|load",
    ]
