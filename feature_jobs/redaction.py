"""Keep credentials out of everything skewless prints, logs and alerts.

Credentials reach skewless only through the environment (``REDIS_URL``, ``DELTA_ROOT``,
``SKEWLESS_ALERT_WEBHOOK``...) or Airflow connections, but error messages quote URLs and
paths (a missing table at ``s3a://key:secret@bucket/...``). :func:`redact_text` replaces
the password of any ``scheme://user:password@`` URL and every secret found in the
environment by ``***``; the CLI applies it to its output and, through
:func:`install_log_redaction`, to every log record of the process.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import unquote, urlsplit

_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):([^@\s/]+)@")
#: Variables whose whole value is a secret (a Slack webhook URL carries its token).
SECRET_VARIABLES = ("SKEWLESS_ALERT_WEBHOOK",)
_installed = False


def env_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """Secret strings of the environment: URL passwords and secret variables."""
    env = os.environ if env is None else env
    found = [env[name] for name in SECRET_VARIABLES if env.get(name)]
    for value in env.values():
        if "://" not in value or "@" not in value:
            continue
        try:
            password = urlsplit(value).password
        except ValueError:
            continue
        if password:
            found += [password, unquote(password)]
    # Longest first, so a secret containing another is replaced whole.
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with URL passwords and the environment's secrets replaced by ``***``."""
    text = _USERINFO.sub(r"\1:***@", text)
    for secret in env_secrets() if secrets is None else secrets:
        text = text.replace(secret, "***")
    return text


def install_log_redaction() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def redacted(*args: object, **kwargs: object) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when the record is emitted
            return record
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(redacted)
    _installed = True
