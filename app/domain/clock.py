"""The one clock of the application: aware UTC time that tests can set and move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        return self._frozen if self._frozen is not None else datetime.now(UTC)

    def freeze(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the clock only takes aware datetimes")
        self._frozen = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._frozen = self.now() + delta

    def unfreeze(self) -> None:
        self._frozen = None


clock = Clock()


def utcnow() -> datetime:
    """Current time, aware, in UTC."""
    return clock.now()
