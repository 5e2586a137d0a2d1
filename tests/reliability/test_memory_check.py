"""R27's memory verdict: a curve that levels off passes, one that keeps growing fails.

The curves are RSS samples in KiB after warm-up, shaped like the 30-minute
MariaDB soak (steps at each server restart, smaller each time) and like a
steady leak of the same total size.
"""

from __future__ import annotations

from reliability.chaos.measure import rss_levelled_off

WARM = 75_000
LEVELLING = [WARM + step for step in (4_000, 5_000, 11_000, 13_000, 15_500, 16_000, 16_000)]


def test_a_curve_that_levels_off_passes() -> None:
    assert rss_levelled_off(WARM, LEVELLING) is None


def test_a_flat_curve_passes() -> None:
    assert rss_levelled_off(WARM, [WARM + 100] * 30) is None


def test_a_steady_leak_fails_even_below_the_limit() -> None:
    leak = [WARM + 600 * minute for minute in range(30)]  # 0.6 MiB a minute, +17 MiB
    assert "still growing" in (rss_levelled_off(WARM, leak) or "")


def test_growth_past_the_limit_fails() -> None:
    assert "limit 30" in (rss_levelled_off(WARM, [WARM + 40_000]) or "")


def test_a_late_jump_fails() -> None:
    assert "still growing" in (rss_levelled_off(WARM, [WARM] * 10 + [WARM + 8_000]) or "")
