"""Bring a skewless error raised inside a Spark task back to the driver as itself.

Code running on executors (the Redis writer of a sync) raises :class:`SkewlessError`s with
one clear line, but the driver receives them wrapped in Spark's exception, whose text is
a Java stack plus the Python traceback. :func:`raise_task_error` finds the last skewless
error in that text and raises it again with its own message, so the CLI prints one line
and keeps the error's exit code.
"""

from __future__ import annotations

import re
from typing import NoReturn

from feature_jobs import errors

_RAISED = re.compile(r"feature_jobs\.errors\.(\w+): (.+)")


def raise_task_error(exc: BaseException) -> NoReturn:
    """Re-raise the skewless error ``exc`` carries from a task, else ``exc`` itself."""
    found = _RAISED.findall(str(exc))
    if found:
        name, message = found[-1]
        kind = getattr(errors, name, None)
        if isinstance(kind, type) and issubclass(kind, errors.SkewlessError):
            raise kind(message.strip()) from None
    raise exc
