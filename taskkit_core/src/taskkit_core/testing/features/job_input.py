"""Bad job-control input: each refused with one clear line before anything is written."""

from __future__ import annotations

from typing import Any

import pytest

from ...errors import InvalidTaskError
from ...kit import Kit
from ...task import Unique


class JobInputContract:
    """Priority, unique key and timeout limits, checked by the core on every backend."""

    @pytest.mark.parametrize("priority", [101, -101, True, 1.5, "5"])
    def test_a_priority_out_of_range_is_refused(self, kit: Kit, priority: Any) -> None:
        with pytest.raises(InvalidTaskError, match="priority"):
            kit.initiate_task("g", "echo", 1, priority=priority)
        assert kit.backend.group_stats(0) == []

    @pytest.mark.parametrize("key", ["", "k" * 201, "nul\x00", 7])
    def test_a_bad_unique_key_is_refused(self, kit: Kit, key: Any) -> None:
        with pytest.raises(InvalidTaskError, match="unique"):
            kit.initiate_task("g", "echo", 1, unique=key)
        assert kit.backend.group_stats(0) == []

    @pytest.mark.parametrize("period", [0, -1, float("inf"), "1"])
    def test_a_bad_unique_period_is_refused(self, kit: Kit, period: Any) -> None:
        with pytest.raises(InvalidTaskError, match="period"):
            Unique("k", period=period)

    def test_unknown_unique_states_are_refused(self, kit: Kit) -> None:
        with pytest.raises(InvalidTaskError, match="'queued' or 'active'"):
            Unique("k", states="running")  # type: ignore[arg-type]

    @pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), "5", True])
    def test_a_timeout_that_is_not_a_positive_number_is_refused(
        self, kit: Kit, timeout: Any
    ) -> None:
        with pytest.raises(InvalidTaskError, match="timeout"):
            kit.initiate_task("g", "echo", 1, timeout=timeout)
        assert kit.backend.group_stats(0) == []
