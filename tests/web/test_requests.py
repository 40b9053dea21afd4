"""Requests through the web: the form and its messages, the life cycle, scope, the coordinator's queue."""

from __future__ import annotations

from html import unescape

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import (
    EstablishmentKind,
    Force,
    InterventionRequest,
    InterventionStatus,
    OutgoingMessage,
    RequestStatus,
    Role,
)
from tests.factories import make_coordinator, make_establishment, make_request, make_user
from tests.helpers import post_form


def request_form(**changes) -> dict:
    values = {"audiences": ["4e"], "topics": ["cannabis", "alcool"], "group_count": "3", "people_per_group": "28",
              "duration_minutes": "60",
              "windows-0-start_date": "2027-01-11", "windows-0-end_date": "2027-01-15",
              "windows-0-start_time": "08:00", "windows-0-end_time": "12:00",
              "windows-1-start_date": "2027-03-08", "windows-1-end_date": "2027-03-12",
              "windows-1-start_time": "13:30", "windows-1-end_time": "17:00",
              "place": "", "room": "Salle polyvalente", "equipment": "Vidéoprojecteur", "contact_name": "Mme Durand",
              "contact_phone": "04 78 00 00 01", "contact_email": "", "notes": "", "send": "Envoyer la demande"}
    values.update(changes)
    return values


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def tag_of(page: str, element_id: str) -> str:
    """The opening tag of the element with this id."""
    at = page.index(f'id="{element_id}"')
    return page[page.rindex("<", 0, at):page.index(">", at) + 1]


def outbox(recipient: str) -> list[OutgoingMessage]:
    return list(db.session.scalars(select(OutgoingMessage).where(OutgoingMessage.recipient == recipient)))


@pytest.fixture
def school(app, clock):
    establishment = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    return establishment, requester, coordinator


def test_create_and_submit_with_two_windows(school, logged_in):
    establishment, requester, coordinator = school
    client = logged_in(requester)
    page = text(client.get("/demandes/nouvelle"))
    assert 'id="windows-1-start_date"' in page  # two rows to start with
    response = post_form(client, "/demandes/nouvelle", request_form())
    assert response.status_code == 302, text(response)[-3000:]
    item = db.session.scalar(select(InterventionRequest))
    assert item.status is RequestStatus.SUBMITTED and len(item.windows) == 2
    assert [a.code for a in item.audiences] == ["4e"] and {t.code for t in item.topics} == {"cannabis", "alcool"}
    assert [m.subject for m in outbox(coordinator.email)] == ["[Relais] Nouvelle demande d'intervention à examiner"]
    page = text(client.get(response.headers["Location"]))
    assert "Envoyée, en attente d'examen" in page and "Demande envoyée à la coordination" in page


def test_save_a_draft_then_add_a_window_row(school, logged_in):
    _, requester, _ = school
    client = logged_in(requester)
    data = request_form(send="", save="Enregistrer le brouillon")
    data.pop("send")
    response = post_form(client, "/demandes/nouvelle", data)
    assert response.status_code == 302
    item = db.session.scalar(select(InterventionRequest))
    assert item.status is RequestStatus.DRAFT
    added = post_form(client, f"/demandes/{item.id}/modifier", {**request_form(), "add_window": "1"})
    assert 'id="windows-2-start_date"' in text(added)
    submitted = post_form(client, f"/demandes/{item.id}/envoyer", {}, page=f"/demandes/{item.id}")
    assert submitted.status_code == 302
    db.session.refresh(item)
    assert item.status is RequestStatus.SUBMITTED


@pytest.mark.parametrize("changes, field, message", [
    ({"windows-0-start_date": "2026-11-20", "windows-0-end_date": "2026-11-27"}, "windows-0-start_date",
     "Cette date est passée."),
    ({"windows-0-start_date": "2026-12-07", "windows-0-end_date": "2026-12-11"}, "windows-0-start_date",
     "Prévoyez un délai d'au moins 15 jours : première date possible le 15 décembre 2026."),
    ({"windows-0-start_date": "2027-02-22", "windows-0-end_date": "2027-02-26"}, "windows-0-start_date",
     "tombe pendant les vacances scolaires"),
    ({"windows-0-start_date": "2026-12-25", "windows-0-end_date": "2026-12-25"}, "windows-0-start_date",
     "est un jour férié (Jour de Noël)"),
    ({"windows-1-start_time": "07:00"}, "windows-1-start_time", "commencez à 7\u00a0h\u00a030 au plus tôt."),
    ({"windows-1-end_time": "20:00"}, "windows-1-end_time", "terminez à 19\u00a0h au plus tard."),
    ({"group_count": "500"}, "group_count", "Entre 1 et 30 groupes par demande"),
    ({"people_per_group": "0"}, "people_per_group", "Un groupe compte entre 3 et 300 personnes."),
    ({"audiences": []}, "audiences", "Choisissez au moins un public."),
    ({"topics": []}, "topics", "Choisissez au moins un thème."),
    ({"contact_phone": "abc"}, "contact_phone", "Numéro de téléphone invalide."),
])
def test_each_error_shows_next_to_its_field_in_french(school, logged_in, changes, field, message):
    _, requester, _ = school
    client = logged_in(requester)
    response = post_form(client, "/demandes/nouvelle", request_form(**changes))
    page = text(response)
    assert response.status_code == 200
    error_block = page.split(f'id="{field}-erreur"', 1)[1].split("</div>", 1)[0]
    assert message in error_block
    assert f'aria-describedby="{field}' in page or f'aria-describedby="{field}-erreur"' in page or \
        f"{field}-erreur" in page.split(f'id="{field}"', 1)[0][-400:] + page.split(f'id="{field}"', 1)[1][:400]
    assert db.session.scalar(select(InterventionRequest)) is None


def test_an_empty_send_shows_every_error_at_once_in_a_summary_linking_to_the_fields(school, logged_in):
    _, requester, _ = school
    client = logged_in(requester)
    empty = {"duration_minutes": "60", "contact_name": "", "contact_phone": "", "send": "Envoyer la demande"}
    page = text(post_form(client, "/demandes/nouvelle", empty))
    # The fields' own checks and the rules of the domain, in one pass.
    for name, message in [("audiences", "Choisissez au moins un public."), ("topics", "Choisissez au moins un thème."),
                          ("group_count", "Indiquez le nombre de groupes."),
                          ("people_per_group", "Indiquez le nombre de personnes par groupe."),
                          ("windows-0-start_date", "Indiquez au moins une période de disponibilité."),
                          ("contact_name", "Indiquez un contact."),
                          ("contact_phone", "Indiquez un numéro de téléphone.")]:
        assert message in page.split(f'id="{name}-erreur"', 1)[1].split("</div>", 1)[0], name
    summary = page.split('id="resume-erreurs"', 1)[1].split("</div>", 1)[0]
    assert "Le formulaire contient 7 erreurs" in summary
    assert 'tabindex="-1"' in summary and "autofocus" in summary
    assert page.index('id="resume-erreurs"') < page.index("<h1>")  # at the top, where the focus goes
    for anchor in ["audiences-0", "topics-0", "group_count", "people_per_group", "windows-0-start_date",
                   "contact_name", "contact_phone"]:
        assert f'href="#{anchor}"' in summary and f'id="{anchor}"' in page, anchor
    assert "Période 1 — Du : Indiquez au moins une période de disponibilité." in summary
    assert page.count("Indiquez le nombre de groupes.") == 2  # next to the field and in the summary, not twice more
    assert db.session.scalar(select(InterventionRequest)) is None


def test_every_required_field_is_marked(school, logged_in):
    _, requester, _ = school
    page = text(logged_in(requester).get("/demandes/nouvelle"))
    assert "Les champs marqués d'un astérisque (*) sont obligatoires." in page
    for legend in ("Public concerné", "Thèmes souhaités"):
        assert (f'{legend} <span class="required-mark" aria-hidden="true">*</span>'
                '<span class="visually-hidden">(obligatoire)</span></legend>') in page
    for name in ("group_count", "people_per_group", "duration_minutes", "windows-0-start_date", "windows-0-end_date",
                 "windows-0-start_time", "windows-0-end_time", "contact_name", "contact_phone"):
        assert " required" in tag_of(page, name), name
    assert " required" not in tag_of(page, "windows-1-start_date")  # a second period
    assert " required" not in tag_of(page, "notes")
    assert "error-summary" not in page  # nothing to say before a send


def test_enter_in_a_field_sends_the_request_not_add_a_period(school, logged_in):
    _, requester, _ = school
    client = logged_in(requester)
    page = text(client.get("/demandes/nouvelle"))
    form = page.split('<form method="post" novalidate>', 1)[1]
    first_button = form.split('type="submit"', 1)[1].split(">", 1)[0]
    assert 'name="send"' in first_button  # the button Enter presses
    # What the browser posts on Enter: that button's name, no "add_window".
    response = post_form(client, "/demandes/nouvelle", request_form())
    assert response.status_code == 302
    assert db.session.scalar(select(InterventionRequest.status)) is RequestStatus.SUBMITTED


@pytest.mark.parametrize("name, limit", [("notes", 4000), ("place", 250), ("equipment", 250)])
def test_long_texts_are_refused_with_the_count_never_cut(school, logged_in, name, limit):
    _, requester, _ = school
    client = logged_in(requester)
    page = text(client.get("/demandes/nouvelle"))
    tag = tag_of(page, name)
    assert "maxlength" not in tag and f'data-limit="{limit}"' in tag  # a browser would cut a pasted text there
    written = f"{limit:,}".replace(",", "\u202f")
    assert f"{written} caractères au maximum." in page.split(f'id="{name}-limite"', 1)[1].split("</div>", 1)[0]
    too_long = "Accès par le portail nord, " * (limit // 20)
    too_long = too_long[:limit] + "fin du texte"
    page = text(post_form(client, "/demandes/nouvelle", request_form(**{name: too_long})))
    error = page.split(f'id="{name}-erreur"', 1)[1].split("</div>", 1)[0]
    assert f"{written} caractères au maximum : votre texte en compte {limit + 12:,}".replace(",", "\u202f") in error
    assert "fin du texte" in page.split(tag_of(page, name), 1)[1].split("</", 1)[0] or "fin du texte" in tag_of(
        page, name)  # all of it, given back to correct
    assert db.session.scalar(select(InterventionRequest)) is None
    response = post_form(client, "/demandes/nouvelle", request_form(**{name: too_long[:limit]}))
    assert response.status_code == 302
    assert getattr(db.session.scalar(select(InterventionRequest)), name) == too_long[:limit].strip()


def test_a_weekend_window_is_refused_unless_the_establishment_has_saturday_classes(school, logged_in):
    establishment, requester, _ = school
    client = logged_in(requester)
    weekend = request_form(**{"windows-0-start_date": "2027-01-16", "windows-0-end_date": "2027-01-17"})
    page = text(client.get("/demandes/nouvelle"))
    assert "Les interventions ont lieu du lundi au vendredi." in page
    assert '<a href="/etablissement/modifier">Votre établissement a cours le samedi ? Indiquez-le dans sa fiche.</a>' \
        in page
    page = text(post_form(client, "/demandes/nouvelle", weekend))
    error_block = page.split('id="windows-0-start_date-erreur"', 1)[1].split("</div>", 1)[0]
    assert "elle ne compte que des samedis et des dimanches, et l'établissement n'a pas cours le samedi" in error_block
    assert db.session.scalar(select(InterventionRequest)) is None
    # The members say their lycée has classes on Saturdays: the same window is now possible.
    response = post_form(client, "/etablissement/modifier", {"name": establishment.name,
                                                            "address": establishment.address,
                                                            "saturday_classes": "y"})
    assert response.status_code == 302
    db.session.refresh(establishment)
    assert establishment.saturday_classes
    assert "Cours ou activités le samedi" in text(client.get("/etablissement/"))
    assert "du lundi au samedi, votre établissement ayant cours le samedi" in text(client.get("/demandes/nouvelle"))
    assert post_form(client, "/demandes/nouvelle", weekend).status_code == 302
    sunday = request_form(**{"windows-0-start_date": "2027-01-17", "windows-0-end_date": "2027-01-17",
                             "windows-1-start_date": ""})
    page = text(post_form(client, "/demandes/nouvelle", sunday))
    assert "Le 17 janvier 2027 est un dimanche : pas d'intervention le dimanche." in page


def test_the_coordination_is_offered_saturday_starts_only_where_there_are_saturday_classes(app, clock):
    from datetime import date

    from app.domain.clock import utcnow
    from app.domain.matching import load_session_to_rank
    from app.domain.ranking import candidate_starts

    for saturday_classes, days in ((False, 1), (True, 2)):
        lycee = make_establishment("69", kind=EstablishmentKind.LYCEE, saturday_classes=saturday_classes)
        item = make_request(lycee, status="in_planning", start=date(2027, 1, 15), days=2, group_count=1)
        to_rank = load_session_to_rank(db.session, item.interventions[0].id, utcnow())
        assert to_rank.saturday_classes is saturday_classes
        starts = candidate_starts(to_rank.windows, to_rank.duration, "Europe/Paris", "69", "A", True,
                                  saturday_classes=to_rank.saturday_classes)
        assert len({start.date() for start, _ in starts}) == days  # Friday, and Saturday where there are classes


def test_warnings_do_not_block_and_stay_visible(school, logged_in):
    _, requester, _ = school
    client = logged_in(requester)
    response = post_form(client, "/demandes/nouvelle", request_form(audiences=["6e"], topics=["loi-sanctions"]),
                         follow_redirects=True)
    page = text(response)
    assert "Le thème « La loi et les sanctions » est rarement abordé avec ce public (Élèves de 6e)" in page
    assert db.session.scalar(select(InterventionRequest.status)) is RequestStatus.SUBMITTED


def test_overseas_school_shows_the_unknown_calendar_warning(app, clock, logged_in):
    establishment = make_establishment("974", force=Force.GENDARMERIE)
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id)
    client = logged_in(requester)
    response = post_form(client, "/demandes/nouvelle", request_form(), follow_redirects=True)
    assert "Le calendrier des vacances scolaires n'est pas disponible pour cette zone" in text(response)


def test_edit_until_planned_then_refused(school, logged_in):
    establishment, requester, coordinator = school
    item = make_request(establishment, requester, status="submitted")
    db.session.commit()
    client = logged_in(requester)
    response = post_form(client, f"/demandes/{item.id}/modifier", request_form(group_count="4", send=""))
    assert response.status_code == 302
    db.session.refresh(item)
    assert item.group_count == 4 and item.status is RequestStatus.SUBMITTED
    assert item.events[-1].kind == "edited"
    from app.domain import lifecycle
    from app.domain.clock import utcnow

    lifecycle.accept(db.session, item, coordinator, utcnow())
    db.session.commit()
    response = client.get(f"/demandes/{item.id}/modifier", follow_redirects=True)
    assert "ne peut plus être modifiée" in text(response)
    response = post_form(client, f"/demandes/{item.id}/modifier", request_form(group_count="9"),
                         page=f"/demandes/{item.id}")
    db.session.refresh(item)
    assert item.group_count == 4


def test_cancel_request_and_one_session_tell_the_people_concerned(school, logged_in):
    establishment, requester, coordinator = school
    item = make_request(establishment, requester, status="in_planning", group_count=2)
    db.session.commit()
    client = logged_in(requester)
    first = item.interventions[0]
    response = post_form(client, f"/demandes/{item.id}/interventions/{first.id}/annuler",
                         {"reason": "Classe en voyage"})
    assert response.status_code == 302
    db.session.refresh(first)
    assert first.status is InterventionStatus.CANCELLED
    response = post_form(client, f"/demandes/{item.id}/annuler", {"reason": ""})
    assert "Indiquez le motif." in text(response)
    response = post_form(client, f"/demandes/{item.id}/annuler", {"reason": "Établissement fermé"})
    db.session.refresh(item)
    assert item.status is RequestStatus.CANCELLED
    subjects = sorted(m.subject for m in outbox(coordinator.email))
    assert "[Relais] Demande d'intervention annulée" in subjects and "[Relais] Intervention annulée" in subjects
    page = text(client.get(f"/demandes/{item.id}"))
    assert "Établissement fermé" in page and "Classe en voyage" in page and "Historique" in page


def test_duplicate_last_year_in_one_click(school, logged_in):
    establishment, requester, _ = school
    item = make_request(establishment, requester, status="submitted")
    db.session.commit()
    client = logged_in(requester)
    response = post_form(client, f"/demandes/{item.id}/dupliquer", {}, page=f"/demandes/{item.id}")
    assert response.status_code == 302 and "/modifier" in response.headers["Location"]
    copy = db.session.scalar(select(InterventionRequest).where(InterventionRequest.copied_from_id == item.id))
    assert copy.status is RequestStatus.DRAFT and copy.establishment_id == establishment.id


def test_last_year_request_proposed_for_renewal_until_renewed(school, logged_in):
    from datetime import timedelta

    from app.domain.clock import utcnow

    establishment, requester, _ = school
    last_year = make_request(establishment, requester, status="submitted")
    recent = make_request(establishment, requester, status="submitted")
    last_year.status = recent.status = RequestStatus.DONE
    last_year.created_at = utcnow() - timedelta(days=365)
    db.session.commit()
    client = logged_in(requester)
    renewal = "L'an dernier, vous aviez demandé l'intervention n° {} "
    home = text(client.get("/accueil"))
    assert renewal.format(last_year.id) in home and renewal.format(recent.id) not in home
    post_form(client, f"/demandes/{last_year.id}/dupliquer", {}, page="/accueil")
    assert renewal.format(last_year.id) not in text(client.get("/accueil")), "renewed: no longer proposed"


def test_feedback_after_the_session_once_and_editable(school, logged_in, clock):
    from datetime import timedelta

    from app.domain.clock import utcnow

    establishment, requester, _ = school
    item = make_request(establishment, requester, status="in_planning", group_count=1)
    session = item.interventions[0]
    session.status = InterventionStatus.CONFIRMED
    session.starts_at = utcnow() - timedelta(hours=3)
    session.ends_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    client = logged_in(requester)
    url = f"/demandes/{item.id}/interventions/{session.id}/avis"
    assert "donner votre avis" in text(client.get("/accueil"))
    response = post_form(client, url, {"satisfaction": "4", "comment": "Très utile"})
    assert response.status_code == 302
    response = post_form(client, url, {"satisfaction": "5", "comment": "Très utile"})
    db.session.refresh(session)
    assert session.feedback.satisfaction == 5
    clock.advance(timedelta(days=8))
    response = client.get(url, follow_redirects=True)
    assert "ne peut plus être modifié" in text(response)


def test_the_feedback_page_says_which_session_it_is_about(school, logged_in, clock):
    from datetime import timedelta

    from app.domain.clock import utcnow

    establishment, requester, _ = school
    item = make_request(establishment, requester, status="in_planning", group_count=2)
    session = item.interventions[1]
    session.status = InterventionStatus.CONFIRMED
    session.starts_at = utcnow().replace(hour=8, minute=0) - timedelta(days=3)  # 9 h in Lyon
    session.ends_at = session.starts_at + timedelta(hours=1)
    db.session.commit()
    page = text(logged_in(requester).get(f"/demandes/{item.id}/interventions/{session.id}/avis"))
    assert page.split("<h1>", 1)[1].split("</h1>", 1)[0] == "Votre avis sur l'intervention du 27 novembre 2026"
    details = page.split('<dl class="row">', 1)[1].split("</dl>", 1)[0]
    assert "vendredi 27 novembre 2026 à 9" in details  # the time as app.formatting writes it
    assert establishment.name in details and session.group_label in details
    assert f"Demande n° {item.id}" in details


# -- scope -------------------------------------------------------------------------------------------

REQUESTER_ROUTES = [
    ("GET", "/demandes/{id}"), ("GET", "/demandes/{id}/modifier"), ("POST", "/demandes/{id}/modifier"),
    ("POST", "/demandes/{id}/envoyer"), ("GET", "/demandes/{id}/annuler"), ("POST", "/demandes/{id}/annuler"),
    ("POST", "/demandes/{id}/dupliquer"), ("GET", "/demandes/{id}/interventions/{session}/annuler"),
    ("POST", "/demandes/{id}/interventions/{session}/annuler"), ("GET", "/demandes/{id}/interventions/{session}/avis"),
    ("POST", "/demandes/{id}/interventions/{session}/avis"),
]
COORDINATOR_ROUTES = [("GET", "/coordination/demandes/{id}"), ("POST", "/coordination/demandes/{id}/accepter"),
                      ("POST", "/coordination/demandes/{id}/refuser"), ("POST", "/coordination/demandes/{id}/force"),
                      ("POST", "/coordination/demandes/{id}/annuler")]


def test_staff_of_another_establishment_never_see_a_request(app, client, clock, logged_in):
    app.config["WTF_CSRF_ENABLED"] = False  # reach the scope check of POST views
    theirs = make_request(make_establishment(), status="in_planning")
    mine = make_establishment()
    intruder = make_user(Role.REQUESTER, establishment_id=mine.id)
    own = make_request(mine, intruder, status="in_planning")
    logged_in(intruder)
    session_of_theirs = theirs.interventions[0].id
    for method, pattern in REQUESTER_ROUTES:
        for request_id, session_id in ((theirs.id, session_of_theirs), (999999, 1), (own.id, session_of_theirs)):
            url = pattern.format(id=request_id, session=session_id)
            if "{session}" not in pattern and request_id == own.id:
                continue
            response = client.open(url, method=method, data={"reason": "x", "satisfaction": "5"})
            assert response.status_code == 404, f"{method} {url} gave {response.status_code}"
    db.session.refresh(theirs)
    assert theirs.status is RequestStatus.IN_PLANNING
    listing = text(client.get("/demandes/"))
    assert f"Demande n° {theirs.id}<" not in listing and f"Demande n° {own.id}<" in listing


def test_coordinators_only_reach_their_scope(app, client, clock, logged_in):
    app.config["WTF_CSRF_ENABLED"] = False
    police_request = make_request(make_establishment("69", force=Force.POLICE), status="submitted")
    other_departement = make_request(make_establishment("13", force=Force.POLICE), status="submitted")
    draft = make_request(make_establishment("69", force=Force.POLICE), status="draft")
    gendarme = make_coordinator("69", Force.GENDARMERIE)
    logged_in(gendarme)
    for item in (police_request, other_departement, draft):
        for method, pattern in COORDINATOR_ROUTES:
            url = pattern.format(id=item.id)
            response = client.open(url, method=method, data={"reason": "x", "force": "gendarmerie"})
            assert response.status_code == 404, f"{method} {url} gave {response.status_code}"
    assert "Demande n° " not in text(client.get("/coordination/demandes?statut=tous"))
    for item in (police_request, other_departement, draft):
        db.session.refresh(item)
    assert police_request.status is RequestStatus.SUBMITTED and police_request.force is Force.POLICE


def test_force_less_request_is_flagged_for_both_forces_and_must_be_decided(app, client, clock, logged_in):
    item = make_request(make_establishment("69", force=None), status="submitted")
    police = make_coordinator("69", Force.POLICE)
    gendarmerie = make_coordinator("69", Force.GENDARMERIE)
    db.session.commit()
    logged_in(gendarmerie)
    queue = text(client.get("/coordination/demandes"))
    assert f"Demande n° {item.id}" in queue and "Force à déterminer" in queue
    response = post_form(client, f"/coordination/demandes/{item.id}/accepter", {},
                         page=f"/coordination/demandes/{item.id}", follow_redirects=True)
    assert "Choisissez d'abord la force compétente" in text(response)
    response = post_form(client, f"/coordination/demandes/{item.id}/force", {"force": "police"},
                         page=f"/coordination/demandes/{item.id}")
    assert response.headers["Location"].endswith("/coordination/demandes")  # now the police's
    db.session.refresh(item)
    assert item.force is Force.POLICE and item.force_overridden
    assert client.get(f"/coordination/demandes/{item.id}").status_code == 404
    post_form(client, "/compte/deconnexion", {}, page="/accueil")
    logged_in(police)
    response = post_form(client, f"/coordination/demandes/{item.id}/accepter", {},
                         page=f"/coordination/demandes/{item.id}")
    db.session.refresh(item)
    assert item.status is RequestStatus.IN_PLANNING and len(item.interventions) == item.group_count
    assert [m.subject for m in outbox(item.created_by.email)] == ["[Relais] Votre demande d'intervention est acceptée"]


def test_refuse_needs_a_reason_which_the_requester_receives(school, client, logged_in):
    establishment, requester, coordinator = school
    item = make_request(establishment, requester, status="submitted")
    db.session.commit()
    logged_in(coordinator)
    response = post_form(client, f"/coordination/demandes/{item.id}/refuser", {"reason": ""},
                         page=f"/coordination/demandes/{item.id}")
    assert response.status_code == 400 and "Indiquez le motif du refus." in text(response)
    post_form(client, f"/coordination/demandes/{item.id}/refuser", {"reason": "Aucun formateur en janvier"},
              page=f"/coordination/demandes/{item.id}")
    db.session.refresh(item)
    assert item.status is RequestStatus.REFUSED
    message = outbox(requester.email)[-1]
    assert "Aucun formateur en janvier" in message.body_text
    assert "Motif du refus" in text(client.get(f"/coordination/demandes/{item.id}"))


def test_queue_filters(app, client, clock, logged_in):
    from datetime import date

    coordinator = make_coordinator("69", None)
    coordinator.scopes.append(type(coordinator.scopes[0])(departement_code="13", force=None))
    lyon_college = make_request(make_establishment("69", force=Force.POLICE), status="submitted",
                                start=date(2027, 1, 11))
    lyon_company = make_request(make_establishment("69", kind=EstablishmentKind.COMPANY, force=Force.GENDARMERIE),
                                status="submitted", start=date(2027, 3, 8))
    marseille = make_request(make_establishment("13", force=Force.POLICE), status="in_planning",
                             start=date(2027, 1, 18))
    db.session.commit()
    logged_in(coordinator)

    def listed(query: str) -> set[int]:
        page = text(client.get("/coordination/demandes?" + query))
        return {item.id for item in (lyon_college, lyon_company, marseille) if f"Demande n° {item.id}<" in page}

    assert listed("") == {lyon_college.id, lyon_company.id}  # default: waiting for a decision
    assert listed("statut=tous") == {lyon_college.id, lyon_company.id, marseille.id}
    assert listed("statut=tous&departement=13") == {marseille.id}
    assert listed("statut=tous&force=gendarmerie") == {lyon_company.id}
    assert listed("statut=in_planning") == {marseille.id}
    assert listed("statut=tous&type=company") == {lyon_company.id}
    assert listed("statut=tous&du=2027-03-01&au=2027-03-31") == {lyon_company.id}
    assert listed("statut=tous&au=2027-01-15") == {lyon_college.id}


def test_queue_keyset_pagination_and_fixed_number_of_queries(app, client, clock, logged_in, monkeypatch):
    import app.coordination.routes as routes

    coordinator = make_coordinator("69", Force.POLICE)
    establishment = make_establishment("69", force=Force.POLICE)
    requester = make_user(Role.REQUESTER, establishment_id=establishment.id)
    items = [make_request(establishment, requester, status="submitted") for _ in range(5)]
    db.session.commit()
    logged_in(coordinator)
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    first = text(client.get("/coordination/demandes"))
    assert f"Demande n° {items[0].id}<" in first and f"Demande n° {items[2].id}<" not in first
    assert f"apres={items[1].id}" in first
    second = text(client.get(f"/coordination/demandes?apres={items[1].id}"))
    assert f"Demande n° {items[2].id}<" in second and f"Demande n° {items[1].id}<" not in second

    def count_queries(url: str) -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    monkeypatch.setattr(routes, "PAGE_SIZE", 1)
    few = count_queries("/coordination/demandes")
    monkeypatch.setattr(routes, "PAGE_SIZE", 50)
    many = count_queries("/coordination/demandes")
    assert few == many


def test_status_labels_follow_the_language_of_each_page(app, client, clock, logged_in):
    """Labels are translated once per language and kept: each language still gets its own."""
    coordinator = make_coordinator("69", Force.POLICE)
    make_request(make_establishment("69", force=Force.POLICE), status="submitted")
    db.session.commit()
    logged_in(coordinator)
    assert "Envoyée, en attente d'examen" in text(client.get("/coordination/demandes"))
    post_form(client, "/compte/langue/en", {"next": "/accueil"}, page="/accueil")
    english = text(client.get("/coordination/demandes"))
    assert "Sent, awaiting review" in english and "Envoyée, en attente d'examen" not in english
    post_form(client, "/compte/langue/fr", {"next": "/accueil"}, page="/accueil")
    assert "Envoyée, en attente d'examen" in text(client.get("/coordination/demandes"))
