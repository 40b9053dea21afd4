"""The demo data set shows the autopilot (issue #20) in realistic states: a scope in each mode, a proposal waiting
on the police coordinator's home, offers Relais sent in the automatic scope, a session it could not serve."""

from __future__ import annotations

from sqlalchemy import func, select

from app.domain.autopilot import NO_ELIGIBLE
from app.domain.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import (
    Assignment,
    AutopilotMode,
    AutopilotNote,
    AutopilotProposal,
    AutopilotSetting,
    Force,
    Intervention,
    RequestEvent,
    User,
)
from tests.factories import load_demo_data
from tests.helpers import login


def test_the_demo_shows_the_autopilot_in_each_mode(app, client, clock):
    load_demo_data(seed=2026, today=clock.now().date())
    modes = {(s.departement_code, s.force): s.mode for s in db.session.scalars(select(AutopilotSetting))}
    assert modes[("69", Force.POLICE)] is AutopilotMode.PROPOSED
    assert modes[("69", Force.GENDARMERIE)] is AutopilotMode.AUTOMATIC
    assert modes[("13", Force.POLICE)] is AutopilotMode.MANUAL
    [proposal] = db.session.scalars(select(AutopilotProposal)).all()
    assert (proposal.departement_code, proposal.force) == ("69", Force.POLICE) and len(proposal.items) >= 2
    by_relais = db.session.scalar(
        select(func.count(Assignment.id)).join(Intervention, Intervention.id == Assignment.intervention_id)
        .where(Intervention.departement_code == "69", Intervention.force == Force.GENDARMERIE,
               Assignment.offered_by_id.is_(None), Assignment.offered_at >= clock.now().replace(hour=0)))
    assert by_relais >= 2
    notes = db.session.scalars(select(AutopilotNote)).all()
    assert [note.reason for note in notes] == [NO_ELIGIBLE]
    assert db.session.scalar(select(RequestEvent).where(RequestEvent.kind == "autopilot_unserved")).actor_id is None

    login(client, User.by_email("coordination.police.69@relais.demo"), DEMO_PASSWORD)
    home = client.get("/accueil").get_data(as_text=True)
    assert f"Relais propose {len(proposal.items)} offres — 69 – Rhône, Police nationale" in home
    assert "Interventions que Relais n'a pas pu proposer" in home
    settings = client.get("/pilote-automatique/").get_data(as_text=True)
    assert 'id="69-police-mode-1" value="proposed" aria-describedby="69-police-mode-1-aide" checked' in settings
