"""Batch checks: compare a snapshot's profile with the previous validated snapshot's.

Row count drop, null-rate jump, mean shift and population stability index (PSI), each
with its per-view threshold and blocking flag (see :mod:`check_config`). They look at
small aggregates only; the data was read once by the scan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from feature_jobs.validation.check_config import CheckSetting
from feature_jobs.validation.findings import Finding
from feature_jobs.validation.profile import Baseline
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


def psi_by_column(scan: Scan, baseline: Baseline | None) -> dict[str, float]:
    """PSI of every numeric column over ten bins cut at the baseline's deciles."""
    if baseline is None:
        return {}
    values = {}
    for column, profile in scan.profiles.items():
        before = baseline.profiles.get(column)
        if before is None or not before.percentiles or not profile.percentiles:
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
) -> list[Finding]:
    """Every batch check that trips (blocking and warning alike); none without a baseline."""
    if baseline is None:
        return []
    findings: list[Finding] = []
    drop = settings.get("row_count_drop_pct")
    if drop is not None and baseline.rows > 0:
        fallen = 100.0 * (baseline.rows - scan.rows) / baseline.rows
        if fallen > drop.threshold:
            findings.append(
                _finding(drop, None, scan, fallen, float(baseline.rows), None,
                         f"rows fell {fallen:.1f}% ({baseline.rows} -> {scan.rows})")
            )  # fmt: skip
    for column, profile in scan.profiles.items():
        before = baseline.profiles.get(column)
        if before is None:
            continue
        findings += _column_checks(settings, scan, baseline, profile, before, psi_values)
    return findings


def _column_checks(
    settings: Mapping[str, CheckSetting],
    scan: Scan,
    baseline: Baseline,
    profile: ColumnProfile,
    before: ColumnProfile,
    psi_values: Mapping[str, float],
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
