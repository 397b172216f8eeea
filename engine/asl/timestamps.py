"""RFC 3339 timestamps as ASL reads them (Choice Timestamp* rules, Wait Timestamp)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$"
)


def parse(text: object) -> datetime | None:
    """The instant ``text`` names, or None when it is not an RFC 3339 date-time with a zone."""
    if not isinstance(text, str):
        return None
    match = _RFC3339.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros)
    except ValueError:
        return None
    return moment.replace(tzinfo=_zone(zone))


def _zone(text: str) -> timezone:
    if text == "Z":
        return timezone.utc
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def to_epoch(moment: datetime) -> float:
    return moment.timestamp()


def iso(epoch: float) -> str:
    """AWS's rendering of an instant in the context object: millisecond precision, Z."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
