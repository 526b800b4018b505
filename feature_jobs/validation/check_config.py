"""Batch-check thresholds of a feature view: ``FeatureView.checks``, parsed and defaulted.

``checks`` maps a batch check to its settings; every key is optional, and an omitted
check runs with the default below. A check is disabled with ``False`` (or
``{"enabled": False}``). Each setting dict accepts:

* ``threshold`` (number): the limit, in the unit of the check (see below);
* ``blocking`` (bool): True fails the batch (quarantine, alert, exit non-zero);
  False only sends a warning alert and publishes;
* ``columns`` (list of feature names, drift checks only): restrict the check to these
  features (default: every feature of the view);
* ``min_rows`` (int, ``mean_shift_pct`` and ``psi`` only; default 100): the check is
  skipped when either snapshot has fewer rows - a mean or deciles of a few dozen
  entities move by chance, and a warning on every small snapshot teaches people to
  ignore warnings;
* ``min_shift`` (number >= 0, ``mean_shift_pct`` only): the noise floor: the mean must
  also move by more than this, in the feature's own units. Default 1 for whole-number
  features (counts: a mean of 0.37 payments per user becoming 0.79 is +114 % but less
  than one payment each) and 0 for the others; set it for every column of the check.

=====================  =========================================  =========  ========
key                    fails when                                 default    blocking
=====================  =========================================  =========  ========
``row_count_drop_pct`` rows fell by more than ``threshold`` % from   50         yes
                       the baseline's (mean) row count
``null_rate_jump``     a feature's null fraction rose by more than   0.2        yes
                       ``threshold`` (absolute, 0..1)
``mean_shift_pct``     a numeric feature's mean moved by more than   50         no
                       ``threshold`` % of the baseline mean (and
                       by more than ``min_shift``)
``psi``                a numeric feature's population stability      0.25       no
                       index against the baseline exceeds
                       ``threshold`` (0.1 moderate, 0.25 major shift)
=====================  =========================================  =========  ========

Example::

    FeatureView(..., checks={
        "row_count_drop_pct": {"threshold": 30},
        "psi": {"threshold": 0.2, "blocking": True, "columns": ["amount_avg_30d"]},
        "mean_shift_pct": False,
    })

The baseline pools the snapshots of the same view and definition version that passed the
gate with full windows, over the week (``profile.BASELINE_SPAN``) ending with the latest
of them (their profiles are in ``_skewless/profiles``): a day is compared with an
ordinary week, not with the day before, so the weekly cycle does not read as drift. The
checks are skipped, and the verdict says why, when the snapshot is warming up (its
longest window starts before the source's first event, see ``warmup``), when there is no
baseline, and, for features whose window is shorter than a week, until the baseline
covers a whole week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from feature_jobs.definitions import FeatureView
from feature_jobs.errors import DefinitionError

DEFAULTS: dict[str, tuple[float, bool]] = {
    "row_count_drop_pct": (50.0, True),
    "null_rate_jump": (0.2, True),
    "mean_shift_pct": (50.0, False),
    "psi": (0.25, False),
}
DRIFT_CHECKS = frozenset({"null_rate_jump", "mean_shift_pct", "psi"})
#: Checks comparing distributions, which need a population on both sides.
DISTRIBUTION_CHECKS = frozenset({"mean_shift_pct", "psi"})
DEFAULT_MIN_ROWS = 100
#: ``min_shift`` of whole-number features when the view does not set it: one unit.
DEFAULT_MIN_SHIFT = 1.0
_SETTING_KEYS = frozenset({"threshold", "blocking", "columns", "enabled", "min_rows", "min_shift"})


@dataclass(frozen=True)
class CheckSetting:
    """How one batch check runs for one view."""

    name: str
    threshold: float
    blocking: bool
    columns: tuple[str, ...] | None = None
    min_rows: int = 0  # skipped when either snapshot has fewer rows
    min_shift: float | None = None  # mean_shift_pct: None is the default by feature type

    def applies_to(self, column: str) -> bool:
        """Whether the check looks at ``column``."""
        return self.columns is None or column in self.columns


def batch_settings(view: FeatureView) -> dict[str, CheckSetting]:
    """The enabled batch checks of ``view`` with their thresholds (defaults filled in)."""
    raw: Mapping[str, Any] = view.checks
    where = f"feature view {view.name}: checks"
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise DefinitionError(
            f"{where}: unknown check {unknown[0]!r}; known: {', '.join(sorted(DEFAULTS))}"
        )
    features = {f.name for f in view.features}
    settings: dict[str, CheckSetting] = {}
    for name, (threshold, blocking) in DEFAULTS.items():
        value = raw.get(name, {})
        if value is False or value is None:
            continue
        if not isinstance(value, Mapping):
            raise DefinitionError(
                f"{where}[{name!r}] must be a dict like {{'threshold': {threshold:g}, "
                "'blocking': True}} or False to disable it"
            )
        extra = sorted(set(value) - _SETTING_KEYS)
        if extra:
            raise DefinitionError(
                f"{where}[{name!r}]: unknown setting {extra[0]!r}; use threshold, blocking, "
                "columns, min_rows, min_shift or enabled"
            )
        if value.get("enabled", True) is False:
            continue
        limit = value.get("threshold", threshold)
        if not isinstance(limit, (int, float)) or isinstance(limit, bool) or limit < 0:
            raise DefinitionError(f"{where}[{name!r}]: threshold {limit!r} must be a number >= 0")
        block = value.get("blocking", blocking)
        if not isinstance(block, bool):
            raise DefinitionError(f"{where}[{name!r}]: blocking {block!r} must be True or False")
        columns = value.get("columns")
        if columns is not None:
            if name not in DRIFT_CHECKS:
                raise DefinitionError(f"{where}[{name!r}]: columns applies only to drift checks")
            missing = [c for c in columns if c not in features]
            if missing:
                raise DefinitionError(
                    f"{where}[{name!r}]: {missing[0]!r} is not a feature of the view; "
                    f"known: {', '.join(sorted(features))}"
                )
            columns = tuple(columns)
        min_rows = value.get("min_rows", DEFAULT_MIN_ROWS if name in DISTRIBUTION_CHECKS else 0)
        if "min_rows" in value and name not in DISTRIBUTION_CHECKS:
            raise DefinitionError(
                f"{where}[{name!r}]: min_rows applies only to mean_shift_pct and psi"
            )
        if not isinstance(min_rows, int) or isinstance(min_rows, bool) or min_rows < 0:
            raise DefinitionError(
                f"{where}[{name!r}]: min_rows {min_rows!r} must be a whole number >= 0"
            )
        min_shift = value.get("min_shift")
        if min_shift is not None and name != "mean_shift_pct":
            raise DefinitionError(f"{where}[{name!r}]: min_shift applies only to mean_shift_pct")
        if min_shift is not None and (
            not isinstance(min_shift, (int, float)) or isinstance(min_shift, bool) or min_shift < 0
        ):
            raise DefinitionError(
                f"{where}[{name!r}]: min_shift {min_shift!r} must be a number >= 0 (the "
                "smallest move of the mean, in the feature's units, that counts)"
            )
        settings[name] = CheckSetting(
            name, float(limit), block, columns, min_rows,
            None if min_shift is None else float(min_shift),
        )  # fmt: skip
    return settings
