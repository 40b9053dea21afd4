"""Ranking one session: start times from the windows, candidates best first, the others with reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from app.domain.availability import Period, TrainerAvailability, WeeklySlot
from app.domain.planning import TrainerLimits
from app.domain.ranking import Window, candidate_starts, rank_candidates
from tests.factories import SESSION_NEED as NEED
from tests.factories import TRAINER_PROFILE as TRAINER

HOUR = timedelta(hours=1)


def test_starts_every_half_hour_inside_windows_skipping_weekends_and_holidays():
    # Thursday 11 (a public holiday) to Tuesday 16 November 2027, mornings.
    window = Window(date(2027, 11, 11), date(2027, 11, 16), time(9, 0), time(11, 0))
    starts = candidate_starts([window], HOUR, "Europe/Paris", "69", "A", is_school=True)
    days = sorted({start.date() for start, _ in starts})
    assert days == [date(2027, 11, 12), date(2027, 11, 15), date(2027, 11, 16)]
    assert len(starts) == 3 * 3  # 9:00, 9:30, 10:00 each day
    assert starts[0] == (datetime(2027, 11, 12, 8, 0, tzinfo=UTC), datetime(2027, 11, 12, 9, 0, tzinfo=UTC))


def test_saturday_starts_only_where_the_establishment_has_saturday_classes():
    # Friday 15 to Sunday 17 January 2027, mornings.
    window = Window(date(2027, 1, 15), date(2027, 1, 17), time(9, 0), time(10, 0))
    usual = candidate_starts([window], HOUR, "Europe/Paris", "69", "A", is_school=True)
    assert sorted({start.date() for start, _ in usual}) == [date(2027, 1, 15)]
    with_saturdays = candidate_starts([window], HOUR, "Europe/Paris", "69", "A", is_school=True,
                                      saturday_classes=True)
    assert sorted({start.date() for start, _ in with_saturdays}) == [date(2027, 1, 15), date(2027, 1, 16)]


def test_starts_are_local_to_an_overseas_place():
    window = Window(date(2027, 1, 12), date(2027, 1, 12), time(8, 0), time(9, 0))
    assert candidate_starts([window], HOUR, "Indian/Reunion", "974", None, is_school=False) == [
        (datetime(2027, 1, 12, 4, 0, tzinfo=UTC), datetime(2027, 1, 12, 5, 0, tzinfo=UTC))]


def test_candidates_ranked_with_score_parts_and_exclusions_explained():
    near = replace(TRAINER, trainer_id=1, latitude=45.76, longitude=4.84)
    far = replace(TRAINER, trainer_id=2, latitude=45.95, longitude=4.72)
    gendarme = replace(TRAINER, trainer_id=3, force="gendarmerie")
    on_leave = replace(TRAINER, trainer_id=4)
    starts = candidate_starts([Window(date(2027, 1, 12), date(2027, 1, 12), time(10, 0), time(12, 0))], HOUR,
                              "Europe/Paris", "69", "A", is_school=True)
    workloads = {i: TrainerLimits(i, 3, 8) for i in range(1, 5)}
    leave = Period(datetime(2027, 1, 11, tzinfo=UTC), datetime(2027, 1, 14, tzinfo=UTC), "Congés")
    availabilities = {1: TrainerAvailability(1), 2: TrainerAvailability(2, slots=(WeeklySlot(1, time(8), time(17)),)),
                      3: TrainerAvailability(3), 4: TrainerAvailability(4, unavailable=(leave,))}
    ranking = rank_candidates(NEED, [near, far, gendarme, on_leave], starts, workloads, availabilities)
    assert [c.trainer_id for c in ranking.candidates] == [1, 2]
    assert ranking.candidates[0].parts["distance"] > ranking.candidates[1].parts["distance"]
    assert ranking.candidates[1].parts["preference"] == 1.0  # declared pattern
    assert ranking.candidates[0].starts[0] == datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
    assert [e.rule for e in ranking.excluded[3]] == ["force"]
    assert [e.rule for e in ranking.excluded[4]] == ["disponibilite"]
    # Continuity and a lighter workload can put the farther trainer first.
    busy_near = {**workloads, 1: TrainerLimits(1, 3, 8, load=6)}
    again = rank_candidates(NEED, [near, far], starts, busy_near, availabilities, frozenset({2}))
    assert [c.trainer_id for c in again.candidates] == [2, 1]
    assert again.candidates[0].parts["continuite"] == 1.0


def test_max_starts_keeps_the_earliest_starts_and_the_same_order():
    near = replace(TRAINER, trainer_id=1, latitude=45.76, longitude=4.84)
    far = replace(TRAINER, trainer_id=2, latitude=45.95, longitude=4.72)
    on_leave = replace(TRAINER, trainer_id=4)
    starts = candidate_starts([Window(date(2027, 1, 12), date(2027, 1, 22), time(8, 0), time(17, 0))], HOUR,
                              "Europe/Paris", "69", "A", is_school=True)
    workloads = {i: TrainerLimits(i, 3, 8) for i in (1, 2, 4)}
    leave = Period(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC), "Congés")
    availabilities = {1: TrainerAvailability(1), 2: TrainerAvailability(2),
                      4: TrainerAvailability(4, unavailable=(leave,))}
    every = rank_candidates(NEED, [near, far, on_leave], starts, workloads, availabilities)
    first = rank_candidates(NEED, [near, far, on_leave], starts, workloads, availabilities, max_starts=5)
    assert len(every.candidates[0].all_starts) > 100
    assert [c.trainer_id for c in first.candidates] == [c.trainer_id for c in every.candidates] == [1, 2]
    assert [c.score for c in first.candidates] == [c.score for c in every.candidates]
    assert first.candidates[0].all_starts == every.candidates[0].all_starts[:5]
    assert [e.rule for e in first.excluded[4]] == ["disponibilite"], "no start at all still excludes"
