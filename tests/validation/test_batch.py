"""Population stability index arithmetic."""

from __future__ import annotations

import math

import pytest

from feature_jobs.validation.batch import PSI_EPSILON, bin_shares, psi


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


def test_bin_shares_from_percentiles() -> None:
    uniform = [float(i) for i in range(1, 100)]  # the percentiles of 1..100
    assert bin_shares(uniform, [10.5, 50.5]) == pytest.approx([0.1, 0.4, 0.5])
    ties = [0.0] * 60 + [1.0] * 39  # 60% zeros: a count feature
    assert bin_shares(ties, [0.0, 1.0]) == pytest.approx([0.0, 0.6, 0.4])


def test_same_percentiles_give_zero_psi_and_a_shift_a_large_one() -> None:
    before = [float(i) for i in range(1, 100)]
    edges = sorted(set(before[9::10]))
    same = psi(bin_shares(before, edges), bin_shares(before, edges))
    shifted = psi(bin_shares(before, edges), bin_shares([q + 50 for q in before], edges))
    assert same == pytest.approx(0.0)
    assert shifted is not None and shifted > 1.0
