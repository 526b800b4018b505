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
  ignore warnings.

=====================  =========================================  =========  ========
key                    fails when                                 default    blocking
=====================  =========================================  =========  ========
``row_count_drop_pct`` rows fell by more than ``threshold`` % from   50         yes
                       the previous validated snapshot
``null_rate_jump``     a feature's null fraction rose by more than   0.2        yes
                       ``threshold`` (absolute, 0..1)
``mean_shift_pct``     a numeric feature's mean moved by more than   50         no
                       ``threshold`` % of the previous mean
``psi``                a numeric feature's population stability      0.25       no
                       index against the previous snapshot exceeds
                       ``threshold`` (0.1 moderate, 0.25 major shift)
=====================  =========================================  =========  ========

Example::

    FeatureView(..., checks={
        "row_count_drop_pct": {"threshold": 30},
        "psi": {"threshold": 0.2, "blocking": True, "columns": ["amount_avg_30d"]},
        "mean_shift_pct": False,
    })

The previous snapshot is the latest earlier snapshot of the same view and definition
version that passed the gate (its profile is in ``_skewless/profiles``); with none, the
batch checks are skipped for that snapshot.
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
_SETTING_KEYS = frozenset({"threshold", "blocking", "columns", "enabled", "min_rows"})


@dataclass(frozen=True)
class CheckSetting:
    """How one batch check runs for one view."""

    name: str
    threshold: float
    blocking: bool
    columns: tuple[str, ...] | None = None
    min_rows: int = 0  # skipped when either snapshot has fewer rows

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
                "columns, min_rows or enabled"
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
        settings[name] = CheckSetting(name, float(limit), block, columns, min_rows)
    return settings
