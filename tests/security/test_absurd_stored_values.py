"""A stored value no form would accept today (an old import, a hand edit) never takes a page down (issue #17,
point 3): dates at the ends of the calendar in every date column the pages read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import (
    AvailabilityException,
    AvailabilityPattern,
    ExceptionKind,
    RequestWindow,
    Trainer,
)
from tests.factories import make_coordinator, make_qualified_trainer, make_request, make_user
from tests.helpers import login, switch_to

FAR_FUTURE = date(9999, 12, 31)
FAR_PAST = date(1, 1, 1)


@pytest.mark.parametrize(("initial", "refresher"), [(FAR_PAST, FAR_FUTURE), (FAR_PAST, None), (FAR_FUTURE, None)])
def test_pages_survive_dates_at_the_ends_of_the_calendar(app, client, clock, initial, refresher):
    trainer = make_qualified_trainer()
    coordinator = make_coordinator("69")
    admin = make_user("admin")
    request = make_request(status="in_planning")
    trainer.patterns.append(AvailabilityPattern(weekday=0, start_time=time(8), end_time=time(12),
                                                valid_from=FAR_PAST, valid_until=FAR_FUTURE))
    trainer.exceptions.append(AvailabilityException(
        kind=ExceptionKind.UNAVAILABLE, starts_at=datetime(2026, 12, 1, tzinfo=UTC),
        ends_at=datetime.combine(FAR_FUTURE, time(0), tzinfo=UTC), reason="Congé"))
    db.session.flush()
    # Written behind the forms' back, as an old import or a hand edit could have.
    db.session.execute(update(Trainer).where(Trainer.id == trainer.id)
                       .values(initial_training_on=initial, last_refresher_on=refresher))
    db.session.execute(update(RequestWindow).where(RequestWindow.request_id == request.id)
                       .values(start_date=FAR_PAST, end_date=FAR_FUTURE))
    db.session.commit()
    session_ = request.interventions[0]
    pages = {
        coordinator: ["/accueil", "/formateurs/", f"/formateurs/{trainer.id}",
                      f"/formateurs/{trainer.id}/disponibilites",
                      "/coordination/demandes?statut=in_planning", f"/coordination/demandes/{request.id}",
                      f"/coordination/demandes/{request.id}/interventions/{session_.id}/candidats",
                      "/formateurs/export.csv", "/statistiques/",
                      "/planification/?date_from=2027-01-04&date_to=2027-01-29&departement=69&force=police"],
        trainer.user: ["/accueil", "/formateurs/mes-disponibilites", "/calendrier/"],
        request.created_by: ["/accueil", "/demandes/", f"/demandes/{request.id}"],
        admin: ["/accueil", "/formateurs/", f"/formateurs/{trainer.id}"],
    }
    login(client, coordinator)
    for person, urls in pages.items():
        switch_to(client, person)
        for url in urls:
            assert client.get(url).status_code == 200, f"{person.role} {url}"
