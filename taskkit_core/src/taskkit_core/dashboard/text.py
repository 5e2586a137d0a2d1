"""How stored text and times are shown: control characters made visible, short times.

Names, headers, errors and payloads are whatever an application stored.
Jinja2's autoescaping keeps them from becoming markup; :func:`visible` keeps
control characters (an escape sequence, a right-to-left override) from
changing what the text around them looks like, by showing ``\\x1b``-style
escapes instead. It runs on every value a template prints.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from markupsafe import Markup

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode
# characters that reorder or hide text (bidi overrides and isolates,
# zero-width and line/paragraph separators).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every control or invisible formatting character written as an escape."""
    return _INVISIBLE.sub(_escape, text)


def finalize(value: Any) -> Any:
    """What a template prints: plain strings made visible; markup and other values as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def duration(seconds: float | None) -> str:
    """A short human duration: 0.4 s, 12 s, 3 min, 2.5 h, 4 d; "-" for None."""
    if seconds is None:
        return "-"
    size = abs(seconds)
    if size < 10:
        text = f"{size:.1f} s"
    elif size < 120:
        text = f"{size:.0f} s"
    elif size < 7200:
        text = f"{size / 60:.0f} min"
    elif size < 172800:
        text = f"{size / 3600:.1f} h"
    else:
        text = f"{size / 86400:.0f} d"
    return f"-{text}" if seconds < 0 else text


def clock_time(ts: float | None) -> str:
    """A timestamp as local date and time to the second; "-" for None."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def count(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"
