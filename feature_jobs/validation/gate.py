"""The validation gate materialize calls before the Delta write: pass, warn, or refuse.

It judges every snapshot of a run (one date, or a backfill range) in one pass:

1. Refuse if validation is switched off (unless ``allow_unvalidated``, which is logged
   and alerted as a warning).
2. Build each snapshot's contract: structural rules from the definitions + domain rules
   (``schemas/``).
3. One Spark aggregation, grouped by snapshot time, counts every rule's violations and
   profiles the features of every snapshot; the stored baselines are read from Delta
   meanwhile.
4. Pandera validates each snapshot with its counts (types, presence, order, every rule)
   and we read its error report (``df.pandera.errors``): the PySpark backend never raises.
5. Batch checks compare each snapshot's profile with its baseline: the week of snapshots
   that passed with full windows before it, inside the range or stored (row count, null
   rate, mean, PSI). A snapshot whose windows are still filling (its longest window
   starts before the source's first event, :mod:`.warmup`) skips them, says so, and is
   no baseline.
6. The caller's ``commit`` writes the passing snapshots (one Delta commit). Only then are
   the profiles (``passed`` ones are the next baselines), the reports and the rows of the
   refused snapshots recorded, and alerts sent: no bookkeeping describes a snapshot that
   was never committed. A refused snapshot reaches only the quarantine.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import ValidationFailed
from feature_jobs.offline.quarantine import BatchKey
from feature_jobs.settings import Settings
from feature_jobs.timeutil import logical_date, require_utc, utc_now
from feature_jobs.validation import batch
from feature_jobs.validation.check_config import batch_settings
from feature_jobs.validation.contract import NUMERIC, Contract, view_contract
from feature_jobs.validation.findings import (
    Finding,
    Skipped,
    from_pandera_errors,
    pandera_errors,
)
from feature_jobs.validation.guard import validation_required
from feature_jobs.validation.profile import BaselineChain, read_baselines
from feature_jobs.validation.rules import Rule
from feature_jobs.validation.scan import RangeScan, Scan, scan, scan_snapshots
from feature_jobs.validation.verdicts import Verdict, alert, alert_unvalidated, record
from feature_jobs.validation.warmup import find_source_start, warm_up_reason, window_is_full

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger("skewless.validation")

#: ``source_start`` of :func:`gate_snapshots`: find the source's first event in its data.
FROM_SOURCE: Final = "from source"
SourceStart = datetime | Literal["from source"] | None


@dataclass(frozen=True)
class RangeResult:
    """What the gate decided for the snapshots of one run.

    Attributes:
        verdicts: one per snapshot time, in time order (empty when not validated).
        committed: what ``commit`` returned (None when nothing passed or no commit).
        validated: False when validation was switched off and that was allowed.
        timings: seconds per phase (scan, waiting for the baselines, Pandera, commit,
            record).
    """

    verdicts: tuple[Verdict, ...]
    committed: object = None
    validated: bool = True
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def refused(self) -> list[Verdict]:
        """The snapshots that failed and were quarantined."""
        return [v for v in self.verdicts if not v.passed]


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
        skipped: the batch checks that did not compare this batch, with the reason.
        psi: population stability index per numeric feature (vs the baseline).
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
    skipped: tuple[Skipped, ...] = ()
    psi: Mapping[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    timings: Mapping[str, float] = field(default_factory=dict)
    committed: object = None


def gate_snapshots(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    snapshots: DataFrame,
    times: Sequence[datetime],
    run_id: str,
    *,
    allow_unvalidated: bool = False,
    now: datetime | None = None,
    schemas_package: str = "schemas",
    commit: Callable[[Sequence[datetime]], object] | None = None,
    source_start: SourceStart = FROM_SOURCE,
) -> RangeResult:
    """Judge the snapshots at ``times`` (rows of all of them in ``snapshots``), commit the
    passing ones through ``commit``, quarantine and alert the others.

    ``source_start`` is the time before which the view's source holds no event (None:
    events precede every window); by default it is found in the source's data.
    Returns the verdicts; a refused snapshot does not raise here (the others commit), the
    caller reports it.

    Raises:
        ValidationFailed: rows carry a ``feature_ts`` outside ``times``; nothing was written.
        ConfigError: validation is switched off and ``allow_unvalidated`` is False.
    """
    ordered = sorted({require_utc(ts, "feature_ts") for ts in times})
    return _gate(
        spark, settings, view, snapshots, ordered, run_id, allow_unvalidated=allow_unvalidated,
        now=now, schemas_package=schemas_package, commit=commit, one_batch=False,
        source_start=source_start,
    )  # fmt: skip


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
    source_start: SourceStart = None,
) -> GateResult:
    """Validate ``snapshot``, every row of it, as the snapshot at ``feature_ts``.

    On failure quarantine it, alert, and raise ValidationFailed; ``commit`` writes the
    batch once it passed (the profile and warnings are recorded only after it returns).
    ``source_start``: as for :func:`gate_snapshots`, but None (every window full) unless
    given, since the batch is handed over rather than computed from the source here.

    Raises:
        ValidationFailed: a blocking check failed; the line names the view, date, checks
            and where the report is.
        ConfigError: validation is switched off and ``allow_unvalidated`` is False.
    """
    started = time.monotonic()
    feature_ts = require_utc(feature_ts, "feature_ts")

    def commit_one(passing: Sequence[datetime]) -> object:
        return commit() if commit is not None and passing else None

    result = _gate(
        spark, settings, view, snapshot, [feature_ts], run_id,
        allow_unvalidated=allow_unvalidated, now=now, schemas_package=schemas_package,
        commit=commit_one, one_batch=True, source_start=source_start,
    )  # fmt: skip
    if not result.validated:
        return GateResult(passed=True, warnings=("validation switched off",), validated=False,
                          committed=result.committed)  # fmt: skip
    verdict = result.verdicts[0]
    if not verdict.passed:
        raise ValidationFailed(verdict.failure_line(view.name))
    return GateResult(
        passed=True, warnings=tuple(f.label for f in verdict.findings), rows=verdict.scan.rows,
        gate_id=verdict.key.gate_id, findings=verdict.findings, skipped=verdict.skipped,
        psi=verdict.psi,
        seconds=time.monotonic() - started, timings=result.timings, committed=result.committed,
    )  # fmt: skip


def _gate(
    spark: SparkSession,
    settings: Settings,
    view: FeatureView,
    frame: DataFrame,
    times: list[datetime],
    run_id: str,
    *,
    allow_unvalidated: bool,
    now: datetime | None,
    schemas_package: str,
    commit: Callable[[Sequence[datetime]], object] | None,
    one_batch: bool,
    source_start: SourceStart,
) -> RangeResult:
    now = require_utc(now or utc_now(), "now")
    days = sorted({logical_date(ts) for ts in times})
    span = f"{days[0]}" + (f"..{days[-1]}" if len(days) > 1 else "")
    if not validation_required(f"feature view {view.name} {span}", allow_unvalidated):
        committed = commit(times) if commit is not None else None
        alert_unvalidated(settings, view, span, run_id)
        return RangeResult(verdicts=(), committed=committed, validated=False)
    contracts = {
        ts: view_contract(
            view,
            feature_ts=ts,
            snapshot_date=logical_date(ts),
            run_id=run_id,
            now=now,
            schemas_package=schemas_package,
        )
        for ts in times
    }
    clock = _Clock()
    template = contracts[times[0]]
    mistyped = template.mistyped(frame.schema)
    profiled = {
        f.name: view.output_type(f.name) in NUMERIC
        for f in view.features
        if f.name in frame.columns and f.name not in mistyped
    }
    rules = template.runnable(frame.schema)
    # The stored baselines (a small Delta read) and the source's first event are fetched
    # while the pass runs: Spark takes jobs from several threads, and they do not depend on
    # each other.
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = pool.submit(read_baselines, spark, settings, view.name, view.version, times)
        start = (
            pool.submit(find_source_start, spark, settings, view, times)
            if source_start == FROM_SOURCE
            else None
        )
        if one_batch:
            scanned = RangeScan(by_time={times[0]: scan(frame, rules, profiled)}, stray_rows=0)
        else:
            scanned = scan_snapshots(frame, rules, profiled, times)
        clock.lap("scan")
        stored = pending.result()
        first_event = start.result() if start is not None else source_start
        clock.lap("baseline_wait")
    assert not isinstance(first_event, str)
    chain = BaselineChain(stored, lambda ts: window_is_full(ts, view.longest_window, first_event))
    if scanned.stray_rows:
        raise ValidationFailed(
            f"feature view {view.name} {span}: {scanned.stray_rows} rows have a feature_ts "
            "that is none of the range's snapshot times; nothing was written (this is a "
            "defect of the engine: please report it)"
        )
    checks = batch_settings(view)
    shape = batch.ViewShape.of(view)
    verdicts: list[Verdict] = []
    frame_of: dict[BatchKey, DataFrame] = {}
    for ts in times:
        contract = contracts[ts]
        one = frame if one_batch else frame.where(frame["feature_ts"] == ts)
        counted = _counts_for(contract, rules, scanned.by_time[ts], frame)
        findings = _row_findings(contract, counted, one)
        warming_up = warm_up_reason(view, ts, first_event)
        if warming_up:
            psi: dict[str, float] = {}
            skipped = [Skipped(name, None, warming_up) for name in checks]
        else:
            baseline = chain.before(ts)
            psi = batch.psi_by_column(counted, baseline, shape)
            compared, skipped = batch.evaluate(checks, counted, baseline, psi, shape)
            findings += compared
        key = BatchKey(uuid.uuid4().hex[:12], run_id, view.name, logical_date(ts), ts,
                       view.version)  # fmt: skip
        verdict = Verdict(key, counted, tuple(findings), psi,
                          {rule.key: rule for rule in contract.rules},
                          skipped=tuple(skipped))  # fmt: skip
        if verdict.passed:
            chain.passed(ts, counted)
        verdicts.append(verdict)
        frame_of[key] = one
    clock.lap("pandera")
    passing = [v.key.feature_ts for v in verdicts if v.passed]
    committed = commit(passing) if commit is not None and passing else None
    clock.lap("commit")
    recorded = record(spark, settings, verdicts, frame_of)
    clock.lap("record")
    for verdict in recorded:
        if verdict.findings:
            alert(settings, view, verdict)
    warned = sum(1 for v in recorded if v.passed and v.findings)
    log.info("feature view %s %s: validated %d snapshot(s) with %d rules each, %d refused, "
             "%d with warnings", view.name, span, len(times), len(template.rules),
             len(recorded) - len(passing), warned)  # fmt: skip
    _log_skipped(view, recorded)
    return RangeResult(verdicts=tuple(recorded), committed=committed, timings=clock.laps)


def _counts_for(
    contract: Contract, scanned_rules: Sequence[Rule], found: Scan, frame: DataFrame
) -> Scan:
    """``found`` with its violation counts keyed by ``contract``'s own rules.

    The scan counted the first snapshot's rules; every snapshot's contract has the same
    rules in the same order, only the literals naming the snapshot differ.
    """
    mine = contract.runnable(frame.schema)
    assert len(mine) == len(scanned_rules)
    counts = {
        rule.key: found.violations[scanned.key]
        for rule, scanned in zip(mine, scanned_rules, strict=True)
    }
    return Scan(rows=found.rows, violations=counts, profiles=found.profiles)


def _row_findings(contract: Contract, counted: Scan, one: DataFrame) -> list[Finding]:
    """Pandera's verdict on one snapshot, given the rule counts (no Spark job)."""
    validated = contract.pandera_schema(counted.violations).validate(one)
    rules = {rule.key: rule for rule in contract.rules}
    return from_pandera_errors(
        pandera_errors(validated), schema_name=contract.name, rules=rules,
        counts=counted.violations, total_rows=counted.rows,
    )  # fmt: skip


def _log_skipped(view: FeatureView, verdicts: Sequence[Verdict]) -> None:
    """One line per reason for the batch checks skipped, naming the dates it applied to."""
    dates: dict[str, list[str]] = {}
    for verdict in verdicts:
        for reason in dict.fromkeys(s.reason for s in verdict.skipped):
            dates.setdefault(reason, []).append(str(verdict.key.snapshot_date))
    for reason, days in dates.items():
        shown = days[0] + (f"..{days[-1]} ({len(days)} snapshots)" if len(days) > 1 else "")
        log.info("feature view %s %s: batch checks skipped: %s", view.name, shown, reason)


class _Clock:
    """Seconds spent per phase, for the log and the bench."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(now - self._last, 3)
        self._last = now
