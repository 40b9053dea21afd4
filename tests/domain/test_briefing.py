"""What a trainer's session page is built from: the itinerary link, and periods read as they were entered."""

from __future__ import annotations

from datetime import UTC, datetime, time

from app.domain.briefing import directions_url
from app.domain.roster import shown_period
from app.models import AvailabilityException, Establishment, ExceptionKind, Intervention, InterventionRequest


def session_at(place: str | None, latitude: float | None = 45.75, longitude: float | None = 4.85) -> Intervention:
    establishment = Establishment(name="Collège Jean-Moulin", address="12 rue Paul-Bert", postcode="69003",
                                  commune_name="Lyon", latitude=latitude, longitude=longitude)
    return Intervention(request=InterventionRequest(establishment=establishment, place=place))


def test_the_itinerary_goes_to_the_coordinates_or_to_the_address():
    assert directions_url(session_at(None)) == "https://www.openstreetmap.org/directions?to=45.75000,4.85000"
    assert directions_url(session_at(None, None, None)) == (
        "https://www.openstreetmap.org/directions?to=12%20rue%20Paul-Bert,%2069003%20Lyon")
    assert directions_url(session_at("Gymnase & stade")) == (
        "https://www.openstreetmap.org/directions?to=Gymnase%20%26%20stade"), "a place of its own, escaped"


def period(start: datetime, end: datetime):
    return shown_period(AvailabilityException(id=1, kind=ExceptionKind.UNAVAILABLE, starts_at=start, ends_at=end),
                        "Europe/Paris")


def test_whole_days_end_on_their_last_day():
    # 31 May to 4 June entered without hours: stored from midnight to the midnight after 4 June, Paris time.
    shown = period(datetime(2027, 5, 30, 22, 0, tzinfo=UTC), datetime(2027, 6, 4, 22, 0, tzinfo=UTC))
    assert (shown.first_day.isoformat(), shown.last_day.isoformat(), shown.start_time, shown.end_time) == (
        "2027-05-31", "2027-06-04", None, None)
    one_day = period(datetime(2027, 5, 30, 22, 0, tzinfo=UTC), datetime(2027, 5, 31, 22, 0, tzinfo=UTC))
    assert one_day.first_day == one_day.last_day


def test_hours_are_kept():
    shown = period(datetime(2027, 6, 7, 12, 0, tzinfo=UTC), datetime(2027, 6, 9, 15, 30, tzinfo=UTC))
    assert (shown.first_day.day, shown.last_day.day, shown.start_time, shown.end_time) == (
        7, 9, time(14, 0), time(17, 30))
