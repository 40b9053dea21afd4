"""Ranking the candidates for one session, with the parts of the score shown to the coordinator.

The score (0 to 100) weighs travel, workload balance within the pool, continuity (the trainer who
came to this establishment before) and the trainer's own preferences (a time inside the weekly
pattern they declared rather than the default one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext

from app.domain.availability import TrainerAvailability, travel_minutes_for
from app.domain.eligibility import (
    Exclusion,
    SessionNeed,
    TrainerProfile,
    availability_exclusion,
    day_exclusions,
    static_exclusions,
)
from app.domain.holidays import check_day
from app.domain.planning import TrainerLimits
from app.domain.request_rules import is_working_weekday
from app.domain.timezones import to_local, to_utc

WEIGHTS = {"distance": 0.4, "charge": 0.3, "continuite": 0.2, "preference": 0.1}
START_STEP = timedelta(minutes=30)
STARTS_SHOWN = 3


@dataclass(frozen=True)
class Window:
    """Dates and local times of day when the establishment can host the session."""

    start_date: date
    end_date: date
    start_time: time
    end_time: time


@dataclass(frozen=True)
class Candidate:
    trainer_id: int
    score: float
    parts: dict[str, float]  # each part from 0 to 1, before weighting
    distance_km: float
    all_starts: tuple[datetime, ...]  # the possible start times (UTC), earliest first (at most max_starts)

    @property
    def starts(self) -> tuple[datetime, ...]:
        """The first few, shown to the coordinator."""
        return self.all_starts[:STARTS_SHOWN]


@dataclass(frozen=True)
class Ranking:
    candidates: list[Candidate]
    excluded: dict[int, list[Exclusion]]


def candidate_starts(windows: Iterable[Window], duration: timedelta, timezone_name: str, departement_code: str,
                     holiday_zone: str | None, is_school: bool, earliest: date | None = None,
                     latest: date | None = None, saturday_classes: bool = False) -> list[tuple[datetime, datetime]]:
    """Every start, each half hour, inside the windows (and between `earliest` and `latest`, local days, when
    given), skipping weekends (but Saturdays where the establishment has classes then) and blocked days."""
    starts: set[tuple[datetime, datetime]] = set()
    for window in windows:
        day = window.start_date if earliest is None else max(window.start_date, earliest)
        last = window.end_date if latest is None else min(window.end_date, latest)
        while day <= last:
            if (is_working_weekday(day, saturday_classes)
                    and not check_day(departement_code, holiday_zone, day, is_school).is_blocked):
                start = to_utc(day, window.start_time, timezone_name)
                latest_end = to_utc(day, window.end_time, timezone_name)
                while start + duration <= latest_end:
                    starts.add((start, start + duration))
                    start += START_STEP
            day += timedelta(days=1)
    return sorted(starts)


def rank_candidates(need: SessionNeed, trainers: Iterable[TrainerProfile], starts: list[tuple[datetime, datetime]],
                    workloads: Mapping[int, TrainerLimits], availabilities: Mapping[int, TrainerAvailability],
                    returning_trainer_ids: frozenset[int] = frozenset(), max_starts: int | None = None) -> Ranking:
    """Candidates best first, and for every other trainer the rules that exclude them. With `max_starts`, a
    candidate's possible starts stop at that many (the page offers no more): the score does not depend on them."""
    eligible: list[tuple[TrainerProfile, list[tuple[datetime, datetime]]]] = []
    excluded: dict[int, list[Exclusion]] = {}
    # The rules of `timed_exclusions`, asked in parts: the local day of each start once for every trainer, the
    # day's rules once per trainer and day, the travel once per trainer (a page ranks on every view).
    days = [to_local(start, need.timezone).date() for start, _ in starts]
    for trainer in trainers:
        exclusions = static_exclusions(need, trainer)
        if exclusions:
            excluded[trainer.trainer_id] = exclusions
            continue
        workload, availability = workloads[trainer.trainer_id], availabilities[trainer.trainer_id]
        travel = travel_minutes_for(trainer.distance_km(need))
        day_refusals: dict[date, list[Exclusion]] = {}
        possible, first_refusal = [], None
        for (start, end), day in zip(starts, days, strict=True):
            if day not in day_refusals:
                day_refusals[day] = day_exclusions(trainer, day, workload)
            refusals = day_refusals[day]
            # Only the first refusal is shown, with every reason: the later ones need no reasons in French,
            # nor the availability asked when the day already refuses.
            if first_refusal is None or not refusals:
                unavailable = availability_exclusion(need, start, end, availability, travel,
                                                     explain=first_refusal is None)
                refusals = refusals + [unavailable] if unavailable else refusals
            if refusals:
                first_refusal = first_refusal or refusals
            else:
                possible.append((start, end))
                if len(possible) == max_starts:
                    break
        if possible:
            eligible.append((trainer, possible))
        elif not starts:
            excluded[trainer.trainer_id] = [Exclusion("creneaux", gettext("Aucun créneau possible dans les "
                                                                          "disponibilités de l'établissement."))]
        else:
            excluded[trainer.trainer_id] = first_refusal or []
    heaviest = max((workloads[t.trainer_id].load for t, _ in eligible), default=0)
    candidates = []
    for trainer, possible in eligible:
        distance = trainer.distance_km(need)
        availability = availabilities[trainer.trainer_id]
        parts = {
            "distance": max(0.0, 1 - distance / max(trainer.max_distance_km, 1)),
            "charge": 1.0 if heaviest == 0 else 1 - workloads[trainer.trainer_id].load / heaviest,
            "continuite": 1.0 if trainer.trainer_id in returning_trainer_ids else 0.0,
            "preference": 0.5 if availability.uses_default_pattern else 1.0,
        }
        score = round(100 * sum(WEIGHTS[name] * value for name, value in parts.items()), 1)
        candidates.append(Candidate(trainer.trainer_id, score, parts, round(distance, 1),
                                    tuple(start for start, _ in possible)))
    candidates.sort(key=lambda c: (-c.score, c.distance_km, c.trainer_id))
    return Ranking(candidates, excluded)
