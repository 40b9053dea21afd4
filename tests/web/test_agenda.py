"""The agenda (app/agenda, app/domain/agenda.py): the coordination's week and month by trainer and day, a trainer's
own month; scope, filters, states, the edges of weeks and months in each zone, pages of trainers, query count."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest

from app.domain import agenda, lifecycle
from app.domain.timezones import to_utc
from app.extensions import db
from app.models import AvailabilityException, ExceptionKind, Force, RequestStatus, Role
from tests.factories import make_assigned_session, make_coordinator, make_establishment, make_trainer, make_user
from tests.helpers import count_queries, login, post_form, switch_to

# The clock fixture: Monday 30 November 2026, 10:00 in Paris.
WEEK = "2026-11-30"


def at(day: date, hour: int, minute: int = 0, zone: str = "Europe/Paris") -> datetime:
    return to_utc(day, time(hour, minute), zone)


def table_of(html: str) -> str:
    """The agenda's table, from its caption to its end."""
    assert "<table" in html, "no agenda table on the page"
    return html.split("<table", 1)[1].split("</table>", 1)[0]


def cell(html: str, trainer_id: int | None, day: date) -> str:
    """The text of one cell of the coordination's agenda (HTML tags kept)."""
    row = f"formateur-{trainer_id or 'aucun'}"
    match = re.search(rf'<td headers="{row} jour-{day.isoformat()}"[^>]*>(.*?)</td>', html, re.S)
    assert match, f"no cell for {row} on {day}"
    return match.group(1)


@pytest.fixture
def world(app, clock):
    """The Rhône, both forces, and the Bouches-du-Rhône: a trainer of each, sessions in every state this week."""
    monday = date(2026, 11, 30)
    police = make_trainer("69", Force.POLICE, user=make_user(Role.TRAINER, full_name="Alice Police"))
    gendarme = make_trainer("69", Force.GENDARMERIE, user=make_user(Role.TRAINER, full_name="Bruno Gendarme"))
    marseille = make_trainer("13", Force.POLICE, user=make_user(Role.TRAINER, full_name="Chloé Marseille"))
    school = make_establishment("69", force=Force.POLICE, name="Collège Jean-Moulin")
    other_school = make_establishment("69", force=Force.POLICE, name="Lycée Ampère")
    confirmed = make_assigned_session(police, at(monday, 9), establishment=school)
    pending = make_assigned_session(police, at(monday + timedelta(days=1), 14), status="offered",
                                    establishment=other_school)
    cancelled = make_assigned_session(police, at(monday + timedelta(days=2), 10), establishment=school)
    coordinator = make_coordinator("69", Force.POLICE)
    lifecycle.cancel_intervention(db.session, cancelled, coordinator, "Grève", clock.now())
    gendarmerie = make_assigned_session(gendarme, at(monday + timedelta(days=3), 9))
    elsewhere = make_assigned_session(marseille, at(monday, 9))
    db.session.commit()
    return {"police": police, "gendarme": gendarme, "marseille": marseille, "school": school,
            "other_school": other_school, "confirmed": confirmed, "pending": pending, "cancelled": cancelled,
            "gendarmerie": gendarmerie, "elsewhere": elsewhere, "coordinator": coordinator, "monday": monday}


def test_the_week_shows_each_state_by_words_and_symbol_not_colour_alone(client, world):
    login(client, world["coordinator"])
    html = client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    monday, police = world["monday"], world["police"].id
    confirmed = cell(html, police, monday)
    assert "agenda-confirmed" in confirmed and "Confirmée" in confirmed and "9\u00a0h–10\u00a0h" in confirmed
    assert 'aria-hidden="true">✓<' in confirmed
    # Each entry leads to its own row of the request page.
    session = world["confirmed"]
    assert f'href="/coordination/demandes/{session.request_id}#intervention-{session.id}"' in confirmed
    session.request.status = RequestStatus.CONFIRMED  # the factory leaves its request a draft
    db.session.commit()
    assert f'<tr id="intervention-{session.id}">' in client.get(
        f"/coordination/demandes/{session.request_id}").get_data(as_text=True)
    pending = cell(html, police, monday + timedelta(days=1))
    assert "Proposée, en attente de réponse" in pending and "Lycée Ampère" in pending
    cancelled = cell(html, police, monday + timedelta(days=2))
    assert "Annulée" in cancelled and 'aria-hidden="true">✕<' in cancelled
    assert "Collège Jean-Moulin" in cancelled
    # The table a screen reader can walk: a caption, column and row headers, each cell naming its headers.
    table = table_of(html)
    assert "<caption" in table and '<th scope="col" id="jour-2026-11-30"' in table
    assert f'<th scope="row" id="formateur-{police}"' in table


def test_the_coordination_sees_its_territory_and_force_only(client, world):
    login(client, world["coordinator"])
    html = client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    assert "Alice Police" in html
    assert "Bruno Gendarme" not in html and "Chloé Marseille" not in html
    assert f"/coordination/demandes/{world['gendarmerie'].request_id}#" not in html
    assert f"/coordination/demandes/{world['elsewhere'].request_id}#" not in html
    # A police-only scope has no force to choose; a filter in the address does not widen it.
    assert 'id="filtre-force"' not in html
    assert "Bruno Gendarme" not in client.get(f"/agenda/semaine?jour={WEEK}&force=gendarmerie").get_data(
        as_text=True)
    # Nor does a département outside it.
    assert "Chloé Marseille" not in client.get(f"/agenda/semaine?jour={WEEK}&departement=13").get_data(as_text=True)


def test_an_admin_sees_everything_and_narrows_by_departement(client, world):
    unstaffed = make_assigned_session(world["marseille"], at(world["monday"], 15), status="offered")
    unstaffed.assignments[0].status = "declined"
    db.session.commit()
    login(client, make_user(Role.ADMIN))
    html = client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    assert all(name in html for name in ("Alice Police", "Bruno Gendarme", "Chloé Marseille"))
    assert 'id="filtre-departement"' in html
    # Nationally, no list of every trainer or establishment of the country: a département first.
    assert 'id="filtre-formateur"' not in html and "Choisissez un département" in html
    assert 'id="formateur-aucun"' not in html  # nor the country's sessions without a trainer
    # Nor the country's trainers free all week: only those who work in it.
    make_trainer("13", Force.POLICE, user=make_user(Role.TRAINER, full_name="Inès Libre"))
    db.session.commit()
    assert "Inès Libre" not in client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    assert "Inès Libre" in client.get(f"/agenda/semaine?jour={WEEK}&departement=13").get_data(as_text=True)
    html = client.get(f"/agenda/semaine?jour={WEEK}&departement=13").get_data(as_text=True)
    assert "Chloé Marseille" in html and "Alice Police" not in html and "Bruno Gendarme" not in html
    assert f"/demandes/{unstaffed.request_id}#" in cell(html, None, world["monday"])
    assert 'id="filtre-formateur"' in html


def test_filters_by_force_trainer_and_establishment(client, world):
    both = make_coordinator("69", None)
    db.session.commit()
    login(client, both)
    html = client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    assert "Alice Police" in html and "Bruno Gendarme" in html and 'id="filtre-force"' in html
    html = client.get(f"/agenda/semaine?jour={WEEK}&force=gendarmerie").get_data(as_text=True)
    assert "Bruno Gendarme" in html and "Alice Police" not in table_of(html)
    html = client.get(f"/agenda/semaine?jour={WEEK}&formateur={world['police'].id}").get_data(as_text=True)
    assert "Alice Police" in table_of(html) and "Bruno Gendarme" not in table_of(html)
    assert f'<option value="{world["police"].id}" selected>Alice Police</option>' in html
    html = client.get(f"/agenda/semaine?jour={WEEK}&etablissement={world['other_school'].id}").get_data(as_text=True)
    table = table_of(html)
    assert "Lycée Ampère" in table and "Collège Jean-Moulin" not in table and "Bruno Gendarme" not in table
    # The filters stay in the links to the other periods and views.
    assert f"etablissement={world['other_school'].id}" in html.split('aria-label="Période"', 1)[1].split("</nav>")[0]


def test_week_and_month_edges_follow_each_places_local_day(client, clock):
    """A session late on Sunday evening in Lyon belongs to that week; one early on Monday morning in La Réunion
    (still Sunday in UTC) to the next; the first and last days of a month are in it, not the day after."""
    trainer = make_trainer("69", Force.POLICE, user=make_user(Role.TRAINER, full_name="Alice Police"))
    sunday = date(2026, 12, 6)
    late = make_assigned_session(trainer, at(sunday, 22, 30))
    reunion_school = make_establishment("974", force=Force.POLICE, name="Collège de Saint-Denis")
    reunion = make_trainer("974", Force.POLICE, user=make_user(Role.TRAINER, full_name="Denis Réunion"))
    early = make_assigned_session(reunion, at(date(2026, 12, 7), 2, 0, "Indian/Reunion"), establishment=reunion_school)
    assert early.starts_at.date() == sunday  # 22:00 UTC on Sunday
    last_of_month = make_assigned_session(trainer, at(date(2026, 12, 31), 23, 0))
    first_of_next = make_assigned_session(trainer, at(date(2027, 1, 1), 0, 30))
    db.session.commit()
    login(client, make_user(Role.ADMIN))
    this_week = client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    assert "22\u00a0h\u00a030" in cell(this_week, trainer.id, sunday)
    assert f"/demandes/{early.request_id}#" not in this_week
    next_week = client.get("/agenda/semaine?jour=2026-12-09").get_data(as_text=True)
    monday_cell = cell(next_week, reunion.id, date(2026, 12, 7))
    assert "2\u00a0h" in monday_cell and "heure de La Réunion" in monday_cell
    assert f"/demandes/{late.request_id}#" not in next_week
    december = client.get("/agenda/mois?jour=2026-12-15").get_data(as_text=True)
    assert f"/demandes/{last_of_month.request_id}#" in cell(december, trainer.id, date(2026, 12, 31))
    assert f"/demandes/{first_of_next.request_id}#" not in december
    assert 'id="jour-2026-12-01"' in december and 'id="jour-2026-12-31"' in december
    assert 'id="jour-2027-01-01"' not in december and 'id="jour-2026-11-30"' not in december
    # Previous, today and next: the neighbouring periods, whatever day was asked.
    assert 'href="/agenda/mois?jour=2026-11-01"' in december and 'href="/agenda/mois?jour=2027-01-01"' in december
    assert 'href="/agenda/mois?jour=2026-11-30"' in december  # today
    assert 'href="/agenda/semaine?jour=2026-12-14"' in next_week and 'href="/agenda/semaine?jour=' + WEEK in next_week


def test_the_month_grid_reads_out_what_its_cells_show_briefly(client, world):
    login(client, world["coordinator"])
    html = client.get("/agenda/mois?jour=2026-12-01").get_data(as_text=True)
    # November 30th is in the previous month; December 1st… 31st are the columns.
    assert f"/demandes/{world['confirmed'].request_id}#" not in html
    html = client.get("/agenda/mois?jour=2026-11-10").get_data(as_text=True)
    entry = cell(html, world["police"].id, world["monday"])
    assert "9\u00a0h" in entry and '<span class="visually-hidden"> — Collège Jean-Moulin, Classe de 4e A — Confirmée'\
        in entry
    assert '<span class="visually-hidden">lundi 30 novembre</span>' in html


def test_unstaffed_sessions_and_unavailabilities_show(client, world, clock):
    monday = world["monday"]
    police = world["police"]
    unstaffed = make_assigned_session(police, at(monday + timedelta(days=4), 9), status="offered")
    unstaffed.assignments[0].status = "declined"
    db.session.add(AvailabilityException(trainer_id=police.id, kind=ExceptionKind.UNAVAILABLE,
                                         starts_at=at(monday + timedelta(days=3), 0),
                                         ends_at=at(monday + timedelta(days=5), 0), reason="Congés"))
    db.session.commit()
    login(client, world["coordinator"])
    html = client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    assert "Sans formateur" in cell(html, None, monday + timedelta(days=4))
    assert "Indisponible" in cell(html, police.id, monday + timedelta(days=3))
    assert "Indisponible" in cell(html, police.id, monday + timedelta(days=4))
    assert "Indisponible" not in cell(html, police.id, monday + timedelta(days=5))  # ends at Saturday's midnight


def test_pages_of_trainers_by_name(client, world, monkeypatch):
    for name in ("Eva", "Fabien", "Gaëlle"):
        make_trainer("69", Force.POLICE, user=make_user(Role.TRAINER, full_name=name))
    db.session.commit()
    monkeypatch.setattr(agenda, "PAGE_SIZE", 2)
    login(client, world["coordinator"])
    seen, path = [], f"/agenda/semaine?jour={WEEK}"
    while path:
        html = client.get(path).get_data(as_text=True)
        seen += re.findall(r'<th scope="row" id="formateur-\d+" class="agenda-who">\s*(?:<a href="[^"]+">)?([^<]+)<',
                           html)
        found = re.search(r'href="([^"]+)">Formateurs suivants', html)
        path = found.group(1).replace("&amp;", "&") if found else None
    assert [name.strip() for name in seen] == ["Alice Police", "Eva", "Fabien", "Gaëlle"]


def test_the_agenda_takes_a_fixed_number_of_queries(client, app, clock):
    coordinator = make_coordinator("69", None)
    monday = date(2026, 11, 30)

    def add_trainers(number: int) -> None:
        for index in range(number):
            trainer = make_trainer("69", Force.POLICE if index % 2 else Force.GENDARMERIE)
            make_assigned_session(trainer, at(monday + timedelta(days=index % 7), 9))
            make_assigned_session(trainer, at(monday + timedelta(days=index % 5), 14), status="offered")
            db.session.add(AvailabilityException(trainer_id=trainer.id, kind=ExceptionKind.UNAVAILABLE,
                                                 starts_at=at(monday, 0), ends_at=at(monday, 12)))
        db.session.commit()

    add_trainers(2)
    login(client, coordinator)

    def statements(path: str) -> int:
        db.session.expire_all()
        with count_queries() as sent:
            assert client.get(path).status_code == 200
        return len(sent)

    paths = (f"/agenda/semaine?jour={WEEK}", "/agenda/mois?jour=2026-12-01",
             f"/agenda/semaine?jour={WEEK}&force=police")
    few = [statements(path) for path in paths]
    add_trainers(12)
    assert [statements(path) for path in paths] == few


def test_a_trainer_sees_their_own_month_and_unavailabilities(client, world, clock):
    police = world["police"]
    db.session.add(AvailabilityException(trainer_id=police.id, kind=ExceptionKind.UNAVAILABLE,
                                         starts_at=at(date(2026, 12, 14), 0), ends_at=at(date(2026, 12, 16), 0),
                                         reason="Congés"))
    db.session.commit()
    login(client, police.user)
    html = client.get("/agenda/mon-mois?jour=2026-11-05").get_data(as_text=True)
    table = table_of(html)
    # November's grid ends with the week of Monday 30th: its sessions, in every state, with words.
    for words in ("Collège Jean-Moulin, Classe de 4e A — Confirmée", "Lycée Ampère, Classe de 4e A — Proposée",
                  "Collège Jean-Moulin, Classe de 4e A — Annulée"):
        assert words in table
    # Each leads to the trainer's page of the session (where an offer is answered), but a cancelled one, gone.
    assert f'href="/formateurs/mes-interventions/{world["pending"].id}"' in table
    assert f'href="/formateurs/mes-interventions/{world["confirmed"].id}"' in table
    assert f'/formateurs/mes-interventions/{world["cancelled"].id}"' not in table
    assert '<span class="agenda-entry agenda-cancelled"' in table
    assert "Marseille" not in html and "Gendarme" not in html
    december = client.get("/agenda/mon-mois?jour=2026-12-01").get_data(as_text=True)
    absences = table_of(december).count('<span class="agenda-absence">')
    assert absences == 2 and "(Congés)" in december  # 14 and 15 December
    listed = client.get("/agenda/mon-mois?jour=2026-12-01&affichage=liste").get_data(as_text=True)
    assert "Lundi 14 décembre" in listed and "Mardi 15 décembre" in listed and "Mercredi 16 décembre" not in listed
    assert "Rien de prévu" not in listed


def test_each_side_gets_its_own_agenda_only(client, world):
    login(client, world["police"].user)
    assert client.get("/agenda/semaine").status_code == 403
    assert client.get("/agenda/mois").status_code == 403
    switch_to(client, world["coordinator"])
    assert client.get("/agenda/mon-mois").status_code == 403
    assert client.get("/agenda/semaine").status_code == 200
    # Bad values in the address are ignored, not errors.
    assert client.get("/agenda/semaine?jour=2026-13-45&formateur=abc&apres=-4&force=marine").status_code == 200


def test_the_demo_fills_the_agenda_in_every_state(app, client, clock):
    from app.domain.demo import DEMO_PASSWORD
    from app.models import User
    from tests.factories import load_demo_data

    load_demo_data(seed=2026, today=clock.now().date())
    login(client, User.by_email("coordination.police.69@relais.demo"), DEMO_PASSWORD)
    for path in ("/agenda/semaine", "/agenda/mois"):
        table = table_of(client.get(path).get_data(as_text=True))
        for state in ("pending", "confirmed", "cancelled"):
            assert f"agenda-entry agenda-{state}" in table, (path, state)
    assert "Sans formateur" in table_of(client.get("/agenda/semaine").get_data(as_text=True))
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    login(client, User.by_email("formateur.pfad@relais.demo"), DEMO_PASSWORD)
    for path in ("/agenda/mon-mois", "/agenda/mon-mois?jour=2026-12-01"):
        table = table_of(client.get(path).get_data(as_text=True))
        for state in ("pending", "confirmed", "cancelled"):
            assert f"agenda-entry agenda-{state}" in table, (path, state)
    december = table_of(client.get("/agenda/mon-mois?jour=2026-12-01").get_data(as_text=True))
    cells = re.findall(r"<td[^>]*>(.*?)</td>", december, re.S)
    assert any("agenda-absence" in cell for cell in cells)
    # Nobody is booked on their leave: the demo would show what the rules forbid.
    assert not any("agenda-absence" in cell and "agenda-entry" in cell for cell in cells)


def test_homes_and_navigation_lead_to_the_agenda(client, world):
    login(client, world["coordinator"])
    home = client.get("/accueil").get_data(as_text=True)
    assert home.count('href="/agenda/semaine"') == 2  # the navigation and the home page
    switch_to(client, world["police"].user)
    home = client.get("/accueil").get_data(as_text=True)
    assert home.count('href="/agenda/mon-mois"') == 2


def test_a_trainer_of_the_territory_leads_to_their_page_one_from_elsewhere_is_only_named(client, world):
    lent = make_assigned_session(world["marseille"], at(world["monday"], 14), establishment=world["school"])
    lent.departement_code = lent.request.departement_code = "69"  # a trainer of the 13 sent to a school of the 69
    db.session.commit()
    login(client, world["coordinator"])
    html = client.get(f"/agenda/semaine?jour={WEEK}").get_data(as_text=True)
    assert f'<a href="/formateurs/{world["police"].id}">Alice Police</a>' in html
    assert "Chloé Marseille" in html and f'href="/formateurs/{world["marseille"].id}"' not in html
    assert f"/demandes/{lent.request_id}#" in cell(html, world["marseille"].id, world["monday"])
