"""taskkit 0.2's settable clock (``taskkit.utils``), from taskkit_core."""

from taskkit_core import cur_ts, reset_cur_ts_impl, set_cur_ts_impl

__all__ = ["cur_ts", "reset_cur_ts_impl", "set_cur_ts_impl"]
