"""The coordinator sees, for one session, the ranked candidates and why the others are excluded."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Force
from tests.factories import make_coordinator, make_qualified_trainer, make_request, make_session_to_rank, make_trainer
from tests.helpers import candidates_url, login


def test_coordinator_sees_candidates_and_exclusions(app, client, clock):
    intervention = make_session_to_rank()
    good = make_qualified_trainer()
    gendarme = make_trainer("69", Force.GENDARMERIE)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    show = client.get(f"/coordination/demandes/{intervention.request_id}").get_data(as_text=True)
    assert candidates_url(intervention) in show
    page = client.get(candidates_url(intervention))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert good.full_name in html and "Formateurs possibles pour Groupe 1" in html
    assert f'{good.full_name} <span class="text-body-secondary">({good.rank})</span>' in html
    # The other force's trainers are counted, never named (issue #17, point 11).
    assert gendarme.full_name not in html and "Le lieu relève de la police nationale." not in html
    assert "1 formateur d'une autre force ou d'un autre territoire est aussi écarté" in html


def test_a_coordinator_of_both_forces_sees_why_each_is_excluded(app, client, clock):
    intervention = make_session_to_rank()
    gendarme = make_trainer("69", Force.GENDARMERIE)
    coordinator = make_coordinator("69", None)
    db.session.commit()
    login(client, coordinator)
    html = client.get(candidates_url(intervention)).get_data(as_text=True)
    assert gendarme.full_name in html and "Le lieu relève de la police nationale." in html
    assert "autre force ou d'un autre territoire" not in html


def test_candidates_page_is_hidden_outside_the_scope(app, client, clock):
    intervention = make_session_to_rank()
    outsider = make_coordinator("13", Force.POLICE)
    db.session.commit()
    login(client, outsider)
    assert client.get(candidates_url(intervention)).status_code == 404


def test_candidates_page_needs_a_session_of_that_request(app, client, clock):
    intervention = make_session_to_rank()
    insider = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, insider)
    assert client.get(f"/coordination/demandes/{intervention.request_id}/interventions/999999/candidats"
                      ).status_code == 404
    assert client.get(f"/coordination/demandes/999999/interventions/{intervention.id}/candidats").status_code == 404
    # A session of another request of the same scope is not reached through this one.
    other = make_request(intervention.request.establishment, status="in_planning")
    db.session.commit()
    assert client.get(f"/coordination/demandes/{other.id}/interventions/{intervention.id}/candidats"
                      ).status_code == 404
    assert client.get(candidates_url(intervention)).status_code == 200


def test_exclusions_name_topics_and_audiences_and_say_what_each_trainer_answered(app, client, clock):
    from app.domain import offers
    from app.models import Assignment, Topic
    from tests.factories import OFFER_SETTINGS, make_establishment, make_offer

    establishment = make_establishment("69", force=Force.POLICE)
    request = make_request(establishment, status="in_planning", topics=("cannabis", "protoxyde-azote"),
                           wants_two_trainers=True)
    intervention = request.interventions[0]
    accepted, declined, unqualified = (make_qualified_trainer(unit_km=km, accepts_pair_work=True) for km in (1, 2, 3))
    for trainer in (accepted, declined):
        trainer.topics.append(db.session.get(Topic, "protoxyde-azote"))
    coordinator = make_coordinator("69", Force.POLICE)
    for trainer in (accepted, declined):
        make_offer(intervention, trainer, clock.now())
    answers = {a.trainer_id: a for a in db.session.query(Assignment).filter_by(intervention_id=intervention.id)}
    offers.accept_offer(db.session, answers[accepted.id], clock.now())
    offers.decline_offer(db.session, answers[declined.id], "En congé", clock.now(), OFFER_SETTINGS)
    db.session.commit()
    login(client, coordinator)
    html = client.get(candidates_url(intervention)).get_data(as_text=True)
    staffing, set_aside = html.split('id="candidats"')[0], html.split('id="exclus"')[1]
    # She accepted: on the session, not among those set aside as if she had declined.
    assert accepted.full_name in staffing and "a accepté" in staffing
    assert accepted.full_name not in set_aside
    assert f"{declined.full_name}</th>" in set_aside and "A décliné cette intervention." in set_aside
    assert "A déjà décliné ou laissé expirer" not in html
    # Codes become the names of the topics.
    assert "Non habilité(e) pour : Protoxyde d&#39;azote." in set_aside and "protoxyde-azote" not in set_aside


def test_scores_are_written_the_french_way_with_a_legend(app, client, clock):
    intervention = make_session_to_rank()
    make_qualified_trainer(unit_km=7)
    coordinator = make_coordinator("69", Force.POLICE)
    db.session.commit()
    login(client, coordinator)
    html = client.get(candidates_url(intervention)).get_data(as_text=True)
    candidates = html.split('id="candidats"')[1].split('id="exclus"')[0]
    assert re.search(r"<td>\d+,\d</td>", candidates) and not re.search(r"<td>\d+\.\d+</td>", candidates)
    assert "Le score additionne quatre composantes" in candidates and "(40\xa0%)" in candidates
