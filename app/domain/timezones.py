"""The one conversion between stored UTC instants and the wall-clock time of a place."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(moment: datetime, timezone_name: str) -> datetime:
    """An aware UTC instant shown in the zone of the place where the session happens."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: store and pass aware UTC datetimes")
    return moment.astimezone(zone(timezone_name))


def to_utc(day: date, wall_time: time, timezone_name: str) -> datetime:
    """A local date and wall-clock time at a place, as an aware UTC instant.

    On the autumn daylight-saving change an ambiguous time takes its first occurrence (fold=0);
    a time skipped in spring is moved forward by the gap, as zoneinfo does.
    """
    local = datetime.combine(day, wall_time, tzinfo=zone(timezone_name))
    return local.astimezone(UTC)
