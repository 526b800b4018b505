"""The validation gate materialize calls before the Delta write: pass, warn, or refuse.

1. Refuse if validation is switched off (unless ``allow_unvalidated``, which is logged
   and alerted as a warning).
2. Build the contract: structural rules from the definitions + domain rules (``schemas/``).
3. One Spark pass over the (cached) snapshot counts every rule's violations and profiles
   the features; the previous validated snapshot's profile is read from Delta.
4. Pandera validates the snapshot with the counts (types, presence, order, every rule)
   and we read its error report (``df.pandera.errors``): the PySpark backend never raises.
5. Batch checks compare the profile with the previous one (row count, null rate, mean, PSI).
6. Blocking failures: the batch and a report go to quarantine, a failure alert is sent,
   and :class:`ValidationFailed` is raised with one line; nothing reaches ``offline/``.
7. Otherwise the caller's ``commit`` writes the batch, and only once it succeeded are the
   ``passed`` profile (the next batch's baseline), the warnings and their alert recorded:
   no bookkeeping describes a snapshot that was never committed.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from feature_jobs.alerts import Alert, send_alert
from feature_jobs.definitions import FeatureView
from feature_jobs.errors import ValidationFailed
from feature_jobs.offline.quarantine import BatchKey, report_location
from feature_jobs.settings import Settings
from feature_jobs.timeutil import logical_date, require_utc, utc_now
from feature_jobs.validation import batch
from feature_jobs.validation.check_config import batch_settings
from feature_jobs.validation.contract import NUMERIC, view_contract
from feature_jobs.validation.findings import Finding, from_pandera_errors, pandera_errors
from feature_jobs.validation.guard import validation_required
from feature_jobs.validation.profile import ProfileKey, read_baseline, write_profile
from feature_jobs.validation.quarantine import with_samples, write_report, write_rows
from feature_jobs.validation.rules import Rule
from feature_jobs.validation.scan import Scan, scan

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger("skewless.validation")
MAX_CHECKS_IN_LINE = 5


@dataclass(frozen=True)
class GateResult:
    """What the gate decided for one batch (warnings do not block).

    Attributes:
        passed: always True when returned (a failing batch raises instead).
        warnings: labels of the non-blocking checks that tripped.
        validated: False when validation was switched off and that was allowed.
        rows: rows in the batch.
        gate_id: id of this gate run in the profile and quarantine tables.
        findings: the warning findings, with their metrics.
        psi: population stability index per numeric feature (vs the previous snapshot).
        seconds: time the gate took.
        timings: seconds per phase (scan, waiting for the baseline, Pandera, commit, record).
        committed: what the gate's ``commit`` returned (None without one).
    """

    passed: bool
    warnings: tuple[str, ...] = ()
    validated: bool = True
    rows: int | None = None
    gate_id: str | None = None
    findings: tuple[Finding, ...] = ()
    psi: Mapping[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    timings: Mapping[str, float] = field(default_factory=dict)
    committed: object = None


def enforce_gate(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    snapshot: DataFrame,
    feature_ts: datetime,
    run_id: str,
    allow_unvalidated: bool = False,
    *,
    now: datetime | None = None,
    schemas_package: str = "schemas",
    commit: Callable[[], object] | None = None,
) -> GateResult:
    """Validate ``snapshot``; on failure quarantine it, alert, and raise ValidationFailed.

    Args:
        spark: the session.
        settings: where the bookkeeping tables live and where alerts go.
        view: the feature view the snapshot belongs to.
        snapshot: the rows about to be written (cache it: it is read once, plus once per
            failed check to sample rows).
        feature_ts: the snapshot time C.
        run_id: the materialize run.
        allow_unvalidated: publish even when validation is switched off (logged).
        now: the wall clock (``feature_ts`` may not be after it); defaults to now.
        schemas_package: the package holding the hand-written domain models.
        commit: writes the batch once it passed; the profile and warnings are recorded
            only after it returns, and whatever it raises propagates with nothing recorded.

    Raises:
        ValidationFailed: a blocking check failed; the line names the view, date, checks
            and where the report is.
        ConfigError: validation is switched off and ``allow_unvalidated`` is False.
    """
    started = time.monotonic()
    feature_ts = require_utc(feature_ts, "feature_ts")
    now = require_utc(now or utc_now(), "now")
    day = logical_date(feature_ts)
    what = f"feature view {view.name} {day}"
    committed: object = None
    if not validation_required(what, allow_unvalidated):
        committed = commit() if commit is not None else None
        _alert(settings, view, day.isoformat(), run_id, (), None, unvalidated=True)
        return GateResult(passed=True, warnings=("validation switched off",), validated=False,
                          committed=committed)  # fmt: skip
    checks = batch_settings(view)
    contract = view_contract(
        view, feature_ts=feature_ts, snapshot_date=day, run_id=run_id, now=now,
        schemas_package=schemas_package,
    )  # fmt: skip
    gate_id = uuid.uuid4().hex[:12]
    clock = _Clock()
    cached_here = not snapshot.is_cached
    frame = snapshot.persist() if cached_here else snapshot
    try:
        mistyped = contract.mistyped(frame.schema)
        profiled = {
            f.name: view.output_type(f.name) in NUMERIC
            for f in view.features
            if f.name in frame.columns and f.name not in mistyped
        }
        # The baseline (a small Delta read) is fetched while the pass runs: Spark takes
        # jobs from several threads, and the two do not depend on each other.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(
                read_baseline, spark, settings, view.name, view.version, feature_ts
            )
            result = scan(frame, contract.runnable(frame.schema), profiled)
            clock.lap("scan")
            baseline = pending.result()
            clock.lap("baseline_wait")
        validated = contract.pandera_schema(result.violations).validate(frame)
        clock.lap("pandera")
        rules = {rule.key: rule for rule in contract.rules}
        findings = from_pandera_errors(
            pandera_errors(validated), schema_name=contract.name, rules=rules,
            counts=result.violations, total_rows=result.rows,
        )  # fmt: skip
        psi = batch.psi_by_column(result, baseline)
        findings += batch.evaluate(checks, result, baseline, psi)
        key = BatchKey(gate_id, run_id, view.name, day, feature_ts, view.version)
        if commit is not None and not any(f.blocking for f in findings):
            committed = commit()
            clock.lap("commit")
        findings, location = _record(spark, settings, frame, key, result, findings, rules, psi)
        blocking = [f for f in findings if f.blocking]
        clock.lap("record")
    finally:
        if cached_here:
            frame.unpersist()
    seconds = time.monotonic() - started
    if blocking:
        _alert(settings, view, day.isoformat(), run_id, findings, location)
        raise ValidationFailed(_failure_line(what, blocking, location))
    warnings = tuple(f.label for f in findings)
    if findings:
        _alert(settings, view, day.isoformat(), run_id, findings, location)
    log.info("%s: validated %d rows with %d rules in %.1fs (%d warnings)",
             what, result.rows, len(contract.rules), seconds, len(warnings))  # fmt: skip
    return GateResult(
        passed=True, warnings=warnings, rows=result.rows, gate_id=gate_id,
        findings=tuple(findings), psi=psi, seconds=seconds, timings=clock.laps,
        committed=committed,
    )  # fmt: skip


def _record(
    spark: SparkSession,
    settings: Settings,
    frame: DataFrame,
    key: BatchKey,
    result: Scan,
    findings: list[Finding],
    rules: Mapping[str, Rule],
    psi: Mapping[str, float],
) -> tuple[list[Finding], str | None]:
    """Store the profile and, when something tripped, the report (and a failed batch).

    Returns the findings with their row samples and the report's location. A failure to
    write is logged and named in the location instead of hiding the verdict.
    """
    blocking = any(f.blocking for f in findings)
    moment = utc_now()
    profile_key = ProfileKey(
        key.view, key.feature_ts, key.snapshot_date, key.run_id, key.gate_id,
        key.definition_version,
    )  # fmt: skip
    location = report_location(settings, key.gate_id) if findings else None
    try:
        status = "quarantined" if blocking else "passed"
        write_profile(spark, settings, profile_key, result, status, dict(psi), moment)
        if findings:
            findings = with_samples(frame, findings, rules)
            write_report(spark, settings, key, findings, moment)
        if blocking:
            write_rows(settings, frame, key, findings, rules, moment)
    except Exception as exc:  # the verdict stands even if bookkeeping cannot be written
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        log.error("feature view %s: writing the validation record failed: %s", key.view, reason)
        location = f"(report not written: {reason})"
    return findings, location


class _Clock:
    """Seconds spent per phase, for the log and the bench."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def _failure_line(what: str, blocking: list[Finding], location: str | None) -> str:
    shown = "; ".join(f.label for f in blocking[:MAX_CHECKS_IN_LINE])
    more = len(blocking) - MAX_CHECKS_IN_LINE
    if more > 0:
        shown += f"; and {more} more"
    line = f"{what}: validation failed, nothing was written: {shown}; report: {location}"
    return " ".join(line.split())


def _alert(
    settings: Settings,
    view: FeatureView,
    day: str,
    run_id: str,
    findings: tuple[Finding, ...] | list[Finding],
    location: str | None,
    unvalidated: bool = False,
) -> None:
    failed = any(f.blocking for f in findings)
    if unvalidated:
        title = f"{view.name} {day} published WITHOUT validation"
        message = "validation is switched off and --allow-unvalidated was given"
    elif failed:
        title = f"{view.name} {day} failed validation"
        message = (
            f"nothing was written to offline/{view.name} and nothing was published; "
            "online keeps serving the previous snapshot"
        )
    else:
        title = f"{view.name} {day} passed with warnings"
        message = "the snapshot was published; the warnings compare it with the previous one"
    send_alert(
        settings,
        Alert(
            kind="validation.failed" if failed else "validation.warning",
            title=title,
            message=message,
            severity="failure" if failed else "warning",
            view=view.name,
            snapshot_date=day,
            run_id=run_id,
            checks=[f.alert_check() for f in findings],
            report_location=location,
            details={"owner": view.owner},
        ),
    )
