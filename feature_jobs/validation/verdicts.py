"""What the gate decided per snapshot, and how that is recorded, alerted and reported.

After the gate has judged every snapshot of a run (and the passing ones are committed),
:func:`record` writes, in one Delta commit each, the profiles of all snapshots (``passed``
ones become later baselines), the reports of those with findings, and the rows of each
refused snapshot; then one alert per snapshot with findings is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from feature_jobs.alerts import Alert, send_alert
from feature_jobs.definitions import FeatureView
from feature_jobs.errors import first_line
from feature_jobs.offline import append_profiles
from feature_jobs.offline.quarantine import BatchKey, report_location
from feature_jobs.settings import Settings
from feature_jobs.timeutil import utc_now
from feature_jobs.validation.findings import Finding, Skipped
from feature_jobs.validation.profile import ProfileKey, profile_rows
from feature_jobs.validation.quarantine import with_samples, write_reports, write_rows
from feature_jobs.validation.rules import Rule
from feature_jobs.validation.scan import Scan

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger("skewless.validation")
MAX_CHECKS_IN_LINE = 5


@dataclass(frozen=True)
class Verdict:
    """The gate's decision on one snapshot.

    Attributes:
        key: which batch (gate id, run, view, date, time, definition version).
        scan: its row count, rule counts and profile.
        findings: every check that tripped (blocking ones refuse the snapshot).
        psi: population stability index per numeric feature against its baseline.
        rules: the snapshot's rules by key, to name the rows a finding is about.
        location: where its report is (set once recorded; None without findings).
        skipped: the batch checks that did not compare this snapshot, with the reason
            (warming up, no baseline yet...).
    """

    key: BatchKey
    scan: Scan
    findings: tuple[Finding, ...]
    psi: Mapping[str, float]
    rules: Mapping[str, Rule]
    location: str | None = None
    skipped: tuple[Skipped, ...] = ()

    @property
    def passed(self) -> bool:
        """True when no blocking check tripped."""
        return not any(f.blocking for f in self.findings)

    @property
    def blocking(self) -> list[Finding]:
        """The checks that refuse the snapshot."""
        return [f for f in self.findings if f.blocking]

    def failure_line(self, view: str) -> str:
        """One line naming the snapshot, its failed checks and its report."""
        shown = "; ".join(f.label for f in self.blocking[:MAX_CHECKS_IN_LINE])
        more = len(self.blocking) - MAX_CHECKS_IN_LINE
        if more > 0:
            shown += f"; and {more} more"
        line = (
            f"feature view {view} {self.key.snapshot_date}: validation failed, nothing was "
            f"written: {shown}; report: {self.location}"
        )
        return " ".join(line.split())


def record(
    spark: SparkSession,
    settings: Settings,
    verdicts: Sequence[Verdict],
    frame_of: Mapping[BatchKey, DataFrame],
) -> list[Verdict]:
    """Store profiles, reports and refused rows; return the verdicts with samples and report.

    A failure to write is logged and named in the location instead of hiding the verdict.
    """
    moment = utc_now()
    recorded = []
    for verdict in verdicts:
        findings = verdict.findings
        if findings:
            frame = frame_of[verdict.key]
            findings = tuple(with_samples(frame, findings, verdict.rules))
        location = report_location(settings, verdict.key.gate_id) if findings else None
        recorded.append(replace(verdict, findings=findings, location=location))
    try:
        rows = []
        for verdict in recorded:
            key = verdict.key
            profile_key = ProfileKey(
                key.view, key.feature_ts, key.snapshot_date, key.run_id, key.gate_id,
                key.definition_version,
            )  # fmt: skip
            status = "passed" if verdict.passed else "quarantined"
            rows += profile_rows(profile_key, verdict.scan, status, dict(verdict.psi), moment)
        append_profiles(spark, settings, rows)
        reports = [(v.key, v.findings) for v in recorded if v.findings]
        if reports:
            write_reports(spark, settings, reports, moment)
        for verdict in recorded:
            if not verdict.passed:
                frame = frame_of[verdict.key]
                write_rows(settings, frame, verdict.key, verdict.findings, verdict.rules, moment)
    except Exception as exc:  # the verdict stands even if bookkeeping cannot be written
        reason = first_line(exc)[:200]
        log.error("writing the validation record failed: %s", reason)
        recorded = [
            replace(v, location=f"(report not written: {reason})") if v.findings else v
            for v in recorded
        ]
    return recorded


def alert(settings: Settings, view: FeatureView, verdict: Verdict) -> None:
    """Send the failure or warning alert of one snapshot with findings."""
    day = verdict.key.snapshot_date.isoformat()
    if verdict.passed:
        title = f"{view.name} {day} passed with warnings"
        # "Published" means online (Redis) everywhere else: here only Delta was written.
        message = (
            f"the snapshot was written to offline/{view.name} (sync publishes it online); "
            "the warnings compare it with its baseline (the week of passed snapshots before it)"
        )
    else:
        title = f"{view.name} {day} failed validation"
        message = (
            f"nothing was written to offline/{view.name} and nothing was published; "
            "online keeps serving the previous snapshot"
        )
    _send(settings, view, day, verdict.key.run_id, title, message, verdict)


def alert_unvalidated(settings: Settings, view: FeatureView, days: str, run_id: str) -> None:
    """The warning that snapshots were committed with validation switched off."""
    title = f"{view.name} {days} written to offline WITHOUT validation"
    message = "validation is switched off and --allow-unvalidated was given"
    _send(settings, view, days, run_id, title, message, None)


def _send(
    settings: Settings,
    view: FeatureView,
    day: str,
    run_id: str,
    title: str,
    message: str,
    verdict: Verdict | None,
) -> None:
    failed = verdict is not None and not verdict.passed
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
            checks=[f.alert_check() for f in verdict.findings] if verdict else [],
            report_location=verdict.location if verdict else None,
            details={"owner": view.owner},
        ),
    )
