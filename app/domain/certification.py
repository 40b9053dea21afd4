"""Certification of trainers: a refresher every two years, warnings 60 days ahead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

VALIDITY = timedelta(days=730)
WARNING_WINDOW = timedelta(days=60)


class CertificationState(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    LAPSED = "lapsed"


@dataclass(frozen=True)
class CertificationStatus:
    state: CertificationState
    valid_until: date

    @property
    def is_valid(self) -> bool:
        return self.state is not CertificationState.LAPSED


def certification_valid_until(certified_since: date) -> date:
    """Last day a trainer may give a session without a new refresher course (the last day of the calendar for a
    date so far ahead that nothing can follow it: a stored absurd date must not take a page down)."""
    if certified_since > date.max - VALIDITY:
        return date.max
    return certified_since + VALIDITY


def certification_status(certified_since: date, today: date) -> CertificationStatus:
    valid_until = certification_valid_until(certified_since)
    if today > valid_until:
        state = CertificationState.LAPSED
    elif today >= valid_until - WARNING_WINDOW:
        state = CertificationState.EXPIRING
    else:
        state = CertificationState.VALID
    return CertificationStatus(state, valid_until)


def is_certified_on(certified_since: date, day: date) -> bool:
    return day <= certification_valid_until(certified_since)
