"""Human output of the CLI: tables and the history timeline (pure: strings in, strings out)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

_DETAIL_KEYS = ("name", "error", "cause", "index", "length", "resource", "output", "input")


def when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A plain aligned table; ``columns`` are (key, heading)."""
    cells = [[heading for _, heading in columns]]
    cells += [[_text(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
                     for line in cells)


def duration(seconds: float) -> str:
    """``42s``, ``5m02s``, ``3h04m``, ``2d03h``: an age at a glance."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return when(value)
    return str(value)


def timeline(events: Iterable[dict]) -> str:
    """One line per history event: id, seconds since the first event, type, the telling details."""
    lines = []
    start = None
    for event in events:
        start = event["timestamp"] if start is None else start
        lines.append(event_line(event, start))
    return "\n".join(lines)


def event_line(event: dict, start: float) -> str:
    details = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
    shown = []
    for key in _DETAIL_KEYS:
        if key in details:
            value = details[key]
            text = value if isinstance(value, str) else json.dumps(value)
            if len(text) > 80:
                text = text[:77] + "..."
            shown.append(f"{key}={text}")
    offset = event["timestamp"] - start
    elapsed = f"+{offset:.3f}s"
    return f"{event['id']:>4}  {elapsed:>10}  {event['type']:<28} {' '.join(shown)}".rstrip()
