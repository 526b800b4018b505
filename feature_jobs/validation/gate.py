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
5. Batch checks compare each snapshot's profile with its baseline: the previous snapshot
   that passed, inside the range or stored before it (row count, null rate, mean, PSI).
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
from typing import TYPE_CHECKING

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import ValidationFailed
from feature_jobs.offline.quarantine import BatchKey
from feature_jobs.settings import Settings
from feature_jobs.timeutil import logical_date, require_utc, utc_now
from feature_jobs.validation import batch
from feature_jobs.validation.check_config import batch_settings
from feature_jobs.validation.contract import NUMERIC, Contract, view_contract
from feature_jobs.validation.findings import Finding, from_pandera_errors, pandera_errors
from feature_jobs.validation.guard import validation_required
from feature_jobs.validation.profile import read_baselines
from feature_jobs.validation.rules import Rule
from feature_jobs.validation.scan import RangeScan, Scan, scan, scan_snapshots
from feature_jobs.validation.verdicts import Verdict, alert, alert_unvalidated, record

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger("skewless.validation")


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
) -> RangeResult:
    """Judge the snapshots at ``times`` (rows of all of them in ``snapshots``), commit the
    passing ones through ``commit``, quarantine and alert the others.

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
) -> GateResult:
    """Validate ``snapshot``, every row of it, as the snapshot at ``feature_ts``.

    On failure quarantine it, alert, and raise ValidationFailed; ``commit`` writes the
    batch once it passed (the profile and warnings are recorded only after it returns).

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
        commit=commit_one, one_batch=True,
    )  # fmt: skip
    if not result.validated:
        return GateResult(passed=True, warnings=("validation switched off",), validated=False,
                          committed=result.committed)  # fmt: skip
    verdict = result.verdicts[0]
    if not verdict.passed:
        raise ValidationFailed(verdict.failure_line(view.name))
    return GateResult(
        passed=True, warnings=tuple(f.label for f in verdict.findings), rows=verdict.scan.rows,
        gate_id=verdict.key.gate_id, findings=verdict.findings, psi=verdict.psi,
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
    # The stored baselines (a small Delta read) are fetched while the pass runs: Spark
    # takes jobs from several threads, and the two do not depend on each other.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(read_baselines, spark, settings, view.name, view.version, times)
        if one_batch:
            scanned = RangeScan(by_time={times[0]: scan(frame, rules, profiled)}, stray_rows=0)
        else:
            scanned = scan_snapshots(frame, rules, profiled, times)
        clock.lap("scan")
        chain = pending.result()
        clock.lap("baseline_wait")
    if scanned.stray_rows:
        raise ValidationFailed(
            f"feature view {view.name} {span}: {scanned.stray_rows} rows have a feature_ts "
            "that is none of the range's snapshot times; nothing was written (this is a "
            "defect of the engine: please report it)"
        )
    checks = batch_settings(view)
    verdicts: list[Verdict] = []
    frame_of: dict[BatchKey, DataFrame] = {}
    for ts in times:
        contract = contracts[ts]
        one = frame if one_batch else frame.where(frame["feature_ts"] == ts)
        counted = _counts_for(contract, rules, scanned.by_time[ts], frame)
        findings = _row_findings(contract, counted, one)
        baseline = chain.before(ts)
        psi = batch.psi_by_column(counted, baseline)
        findings += batch.evaluate(checks, counted, baseline, psi)
        key = BatchKey(uuid.uuid4().hex[:12], run_id, view.name, logical_date(ts), ts,
                       view.version)  # fmt: skip
        verdict = Verdict(key, counted, tuple(findings), psi,
                          {rule.key: rule for rule in contract.rules})  # fmt: skip
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


class _Clock:
    """Seconds spent per phase, for the log and the bench."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps[name] = round(now - self._last, 3)
        self._last = now
