"""Population stability index arithmetic."""

from __future__ import annotations

import math

import pytest

from feature_jobs.validation.batch import PSI_EPSILON, psi


def test_identical_distributions_have_zero_psi() -> None:
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)


def test_psi_matches_the_formula() -> None:
    expected, actual = [50, 50], [80, 20]
    value = 0.3 * math.log(0.8 / 0.5) + (-0.3) * math.log(0.2 / 0.5)
    assert psi(expected, actual) == pytest.approx(value)


def test_an_emptied_bin_counts_with_the_floor() -> None:
    value = (PSI_EPSILON - 0.5) * math.log(PSI_EPSILON / 0.5) + 0.5 * math.log(1 / 0.5)
    assert psi([5, 5], [0, 10]) == pytest.approx(value)


def test_undefined_cases() -> None:
    assert psi([], []) is None
    assert psi([0, 0], [1, 2]) is None
    assert psi([1, 2], [1, 2, 3]) is None
