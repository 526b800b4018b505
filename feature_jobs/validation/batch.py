"""Batch checks: compare a snapshot's profile with its baseline (a week of passed snapshots).

Row count drop, null-rate jump, mean shift and population stability index (PSI), each
with its per-view threshold and blocking flag (see :mod:`check_config`). They look at
small aggregates only; the data was read once by the scan. A check that cannot compare
fairly is skipped with its reason, never tripped: see :func:`evaluate`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

from feature_jobs.definitions import FeatureView
from feature_jobs.validation.check_config import DEFAULT_MIN_SHIFT, DRIFT_CHECKS, CheckSetting
from feature_jobs.validation.findings import Finding, Skipped
from feature_jobs.validation.profile import BASELINE_SPAN, Baseline
from feature_jobs.validation.scan import ColumnProfile, Scan

#: Floor for empty bins, so a bin that empties or appears counts a lot but stays finite.
PSI_EPSILON = 1e-4


def psi(expected: Sequence[float], actual: Sequence[float]) -> float | None:
    """Population stability index of ``actual`` against ``expected`` bin counts or shares.

    ``sum((a - e) * ln(a / e))`` over bin fractions; None when either side is empty or
    the bins differ.
    """
    if len(expected) != len(actual) or sum(expected) <= 0 or sum(actual) <= 0:
        return None
    total_e, total_a = sum(expected), sum(actual)
    value = 0.0
    for e_count, a_count in zip(expected, actual, strict=True):
        e = max(e_count / total_e, PSI_EPSILON)
        a = max(a_count / total_a, PSI_EPSILON)
        value += (a - e) * math.log(a / e)
    return value


def bin_shares(percentiles: Sequence[float], edges: Sequence[float]) -> list[float]:
    """Shares of ``(-inf, e1), [e1, e2), ..., [en, +inf)`` estimated from percentiles.

    With the 1st..99th percentiles, the share below ``x`` is the fraction of them below
    ``x`` (to within 1%), for continuous and tied values alike.
    """
    step = 1.0 / (len(percentiles) + 1)
    below = [step * sum(1 for q in percentiles if q < edge) for edge in edges]
    bounds = [0.0, *below, 1.0]
    return [hi - lo for lo, hi in pairwise(bounds)]


@dataclass(frozen=True)
class ViewShape:
    """What the batch checks need to know of a view's features besides their profiles.

    Attributes:
        windows: each feature's window.
        population: the view's longest window, which decides the entities of a snapshot.
        cadence: the time between two snapshots.
        integral: the features with whole-number values (counts and other longs).
    """

    windows: Mapping[str, timedelta]
    population: timedelta
    cadence: timedelta
    integral: frozenset[str] = frozenset()

    @classmethod
    def of(cls, view: FeatureView) -> ViewShape:
        """The shape of ``view``."""
        return cls(
            windows={f.name: f.window_delta for f in view.features},
            population=view.longest_window,
            cadence=view.cadence_delta,
            integral=frozenset(f.name for f in view.features if view.output_type(f.name) == "long"),
        )

    def window(self, column: str | None) -> timedelta:
        """The window a column's values come from (the population's for the row count)."""
        return self.windows.get(column, self.population) if column else self.population

    def noise_floor(self, column: str, shift: CheckSetting | None) -> float:
        """How far a mean must move, in the feature's units, for a mean shift to count.

        A percentage of a tiny mean is noise: 0.37 night-time payments per user becoming
        0.79 is +114 % but less than one payment each. Whole-number features therefore
        need a shift of more than one unit by default; ``min_shift`` sets the floor.
        """
        if shift is not None and shift.min_shift is not None:
            return shift.min_shift
        return DEFAULT_MIN_SHIFT if column in self.integral else 0.0

    def uncomparable(self, column: str | None, baseline: Baseline) -> str | None:
        """Why ``column`` cannot be compared with ``baseline``, or None when it can.

        A window shorter than a week rises and falls with the weekday (a Sunday's 1-day
        counts are not a Saturday's): it is compared only with a baseline covering a
        whole week, so that every weekday weighs the same in it.
        """
        if self.window(column) >= BASELINE_SPAN or baseline.spans_week(self.cadence):
            return None
        return (
            "a window shorter than a week is compared with a whole week of full-window "
            f"snapshots; the baseline has {baseline.snapshots}"
        )


def psi_by_column(scan: Scan, baseline: Baseline | None, shape: ViewShape) -> dict[str, float]:
    """PSI of every comparable numeric column over ten bins cut at the baseline's deciles."""
    if baseline is None:
        return {}
    values = {}
    for column, profile in scan.profiles.items():
        before = baseline.profiles.get(column)
        if before is None or not before.percentiles or not profile.percentiles:
            continue
        if shape.uncomparable(column, baseline):
            continue
        edges = sorted(set(before.percentiles[9::10]))  # 10%, 20%, ..., 90%
        value = psi(bin_shares(before.percentiles, edges), bin_shares(profile.percentiles, edges))
        if value is not None:
            values[column] = value
    return values


def evaluate(
    settings: Mapping[str, CheckSetting],
    scan: Scan,
    baseline: Baseline | None,
    psi_values: Mapping[str, float],
    shape: ViewShape,
) -> tuple[list[Finding], list[Skipped]]:
    """Every batch check that trips (blocking and warning alike), and those skipped.

    Without a baseline every check is skipped; with one, checks on windows shorter than
    a week are skipped until the baseline covers a whole week.
    """
    if baseline is None:
        reason = "no earlier snapshot with full windows passed (within the lookback)"
        return [], [Skipped(name, None, reason) for name in settings]
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    drop = settings.get("row_count_drop_pct")
    if drop is not None and baseline.rows > 0:
        why = shape.uncomparable(None, baseline)
        fallen = 100.0 * (baseline.rows - scan.rows) / baseline.rows
        if why:
            skipped.append(Skipped(drop.name, None, why))
        elif fallen > drop.threshold:
            findings.append(
                _finding(drop, None, scan, fallen, float(baseline.rows), None,
                         f"rows fell {fallen:.1f}% ({baseline.rows} -> {scan.rows})")
            )  # fmt: skip
    for column, profile in scan.profiles.items():
        before = baseline.profiles.get(column)
        if before is None:
            continue
        why = shape.uncomparable(column, baseline)
        if why:
            skipped += [Skipped(s.name, column, why) for s in settings.values()
                        if s.name in DRIFT_CHECKS and s.applies_to(column)]  # fmt: skip
            continue
        floor = shape.noise_floor(column, settings.get("mean_shift_pct"))
        findings += _column_checks(settings, scan, baseline, profile, before, psi_values, floor)
    return findings, skipped


def _column_checks(
    settings: Mapping[str, CheckSetting],
    scan: Scan,
    baseline: Baseline,
    profile: ColumnProfile,
    before: ColumnProfile,
    psi_values: Mapping[str, float],
    noise_floor: float,
) -> list[Finding]:
    found = []
    column = profile.column
    jump = settings.get("null_rate_jump")
    if jump is not None and jump.applies_to(column):
        now, then = profile.null_rate(scan.rows), before.null_rate(baseline.rows)
        if now - then > jump.threshold:
            found.append(
                _finding(jump, column, scan, now, then, profile.null_count,
                         f"null rate of {column} rose from {then:.1%} to {now:.1%}")
            )  # fmt: skip
    # Distribution checks need a population on both sides (``min_rows``).
    smallest = min(scan.rows, baseline.rows)
    shift = settings.get("mean_shift_pct")
    if (
        shift is not None
        and shift.applies_to(column)
        and smallest >= shift.min_rows
        and profile.mean is not None
        and before.mean is not None
        and abs(profile.mean - before.mean) > noise_floor
    ):
        moved = 100.0 * abs(profile.mean - before.mean) / max(abs(before.mean), 1e-12)
        if moved > shift.threshold:
            found.append(
                _finding(shift, column, scan, moved, before.mean, None,
                         f"mean of {column} moved {moved:.1f}% ({before.mean:.4g} -> "
                         f"{profile.mean:.4g})")
            )  # fmt: skip
    stability = settings.get("psi")
    value = psi_values.get(column)
    if (
        stability is not None
        and stability.applies_to(column)
        and smallest >= stability.min_rows
        and value is not None
        and value > stability.threshold
    ):
        found.append(
                _finding(stability, column, scan, value, None, None,
                         f"distribution of {column} shifted (PSI {value:.3f})")
            )  # fmt: skip
    return found


def _finding(
    setting: CheckSetting,
    column: str | None,
    scan: Scan,
    observed: float,
    baseline: float | None,
    failing_rows: int | None,
    message: str,
) -> Finding:
    return Finding(
        check=setting.name,
        column=column,
        kind="batch",
        blocking=setting.blocking,
        failing_rows=failing_rows,
        total_rows=scan.rows,
        message=message,
        observed=observed,
        baseline=baseline,
        threshold=setting.threshold,
    )
