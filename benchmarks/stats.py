"""Percentiles and medians, computed exactly as the peer harness computes them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100), NaN for no values (the peers' ``common``)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered), max(1, math.ceil(p / 100.0 * len(ordered)))) - 1
    return ordered[k]


def median(values: Iterable[object]) -> float | None:
    """Median of the numbers among ``values`` (None and missing runs are skipped)."""
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return statistics.median(numbers) if numbers else None


def spread(values: Iterable[object]) -> tuple[float, float] | None:
    """(min, max) of the numbers among ``values``, or None."""
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return (min(numbers), max(numbers)) if numbers else None
