"""The one error hierarchy of skewless.

Every error a user can cause derives from :class:`SkewlessError` and carries a message
that names what was wrong and how to fix it; the CLI prints it as a single line.
"""


class SkewlessError(Exception):
    """Base class of every error skewless raises on purpose."""

    exit_code = 2


class DefinitionError(SkewlessError):
    """A feature definition is invalid (raised when definitions are loaded)."""


class ConfigError(SkewlessError):
    """A setting (environment variable, CLI flag, connection) is missing or invalid."""


class SourceDataError(SkewlessError):
    """Raw source data does not match its declared schema or breaks a source rule."""


class ValidationFailed(SkewlessError):
    """A batch failed the validation gate; nothing was published."""

    exit_code = 3


class SnapshotsRefused(ValidationFailed):
    """Some snapshots of a run failed validation; the passing ones were committed.

    Attributes:
        committed: the results of the snapshots that were committed (may be empty).
    """

    def __init__(self, message: str, committed: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.committed = committed


class TimeSemanticsError(SkewlessError):
    """A timestamp or date breaks the UTC rules (naive time, bad date, future snapshot)."""


class OnlineStoreError(SkewlessError):
    """Redis could not be reached, refused a command, or holds an unexpected state."""


class PublishRefused(SkewlessError):
    """A publish was refused to protect what is served (older snapshot, shrunken batch...)."""

    exit_code = 3


class TrainingSetError(SkewlessError):
    """A training-set request (spine, features, manifest) is invalid."""


class LocalEngineRefused(TrainingSetError):
    """An input the local training engine cannot read faithfully; the Spark engine can."""


class UnsafeInputError(SkewlessError):
    """A user-supplied value (path, name, date) failed an allow-list check."""


class OnlineRequestError(SkewlessError):
    """An online read request is invalid (unknown feature, missing or mistyped key, too big)."""


class LockHeld(SkewlessError):
    """Another run of the same step, view and date holds its lock; try again later."""

    exit_code = 75  # EX_TEMPFAIL: transient, so Airflow's retry policy retries it


class VacuumRefused(SkewlessError):
    """A VACUUM would delete files a training manifest still needs (or Delta refused it)."""

    exit_code = 3


class OfflineStoreError(SkewlessError):
    """A Delta table could not be read or written (full disk, corrupt or missing log entry,
    permissions, a concurrent commit), or holds rows that break its own rules."""


def first_line(exc: BaseException | str, limit: int = 300) -> str:
    """The first line of an exception's message or of a text, cut at ``limit`` characters.

    An exception without a message gives its class name, an empty text "". Messages of
    Spark, py4j and redis-py errors can run to hundreds of lines; a one-line error quotes
    only this much of them.
    """
    text = str(exc).strip()
    if not text:
        return "" if isinstance(exc, str) else type(exc).__name__
    return text.splitlines()[0][:limit]
