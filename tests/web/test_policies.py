"""The policies (app.domain.policies): their table against the routes, and each policy's object rule against its
row filter, for every role and kind of scope."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select

from app.domain.policies import POLICIES, policy_table
from app.extensions import db
from app.models import (
    Assignment,
    Establishment,
    Force,
    Intervention,
    InterventionRequest,
    JoinRequest,
    Role,
    SessionReport,
    Trainer,
    Unit,
)
from tests.factories import (
    make_assigned_session,
    make_coordinator,
    make_establishment,
    make_request,
    make_trainer,
    make_user,
)
from tests.helpers import SKIPPED_ENDPOINTS

ROLE_ORDER = (Role.REQUESTER, Role.TRAINER, Role.COORDINATOR, Role.ADMIN)


def render_policy_table() -> str:
    """The table role × resource × action, as docs/architecture.md shows it."""
    lines = ["| resource | action | " + " | ".join(role.value for role in ROLE_ORDER) + " |",
             "| --- | --- | " + " | ".join("---" for _ in ROLE_ORDER) + " |"]
    for resource, action, roles in policy_table():
        marks = " | ".join("✓" if role in roles else "" for role in ROLE_ORDER)
        lines.append(f"| {resource} | {action} | {marks} |")
    return "\n".join(lines)


def routes_by_permission(app) -> dict[tuple[str, str], dict[str, frozenset[Role]]]:
    """(resource, action) → {endpoint: roles}; fails for a view that declares neither a permission nor @public."""
    declared: dict[tuple[str, str], dict[str, frozenset[Role]]] = defaultdict(dict)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "permission"), f"{rule.endpoint} declares no @permission(resource, action) nor @public"
        if view.permission is not None:
            declared[view.permission][rule.endpoint] = view.allowed_roles
    return declared


def test_the_policy_table_is_the_routes_and_the_documentation(app):
    table = render_policy_table()
    print("\n" + table)  # the table, for the reader of the test run (pytest -s)
    declared = routes_by_permission(app)
    for resource, action, roles in policy_table():
        routes = declared.pop((resource, action), {})
        assert routes, f"no route performs {resource}/{action}"
        for endpoint, route_roles in routes.items():
            assert route_roles <= roles, f"{endpoint} lets {route_roles - roles} perform {resource}/{action}"
        reached = frozenset().union(*routes.values())
        assert reached == roles, f"{resource}/{action}: the routes serve {set(reached)}, the policy says {set(roles)}"
    assert not declared, f"routes declare actions no policy has: {sorted(declared)}"
    documentation = (app.root_path + "/../docs/architecture.md")
    with open(documentation, encoding="utf-8") as page:
        assert table in page.read(), "docs/architecture.md does not show the current policy table"


@pytest.fixture
def world(app, clock):
    """Two départements, both forces, coordinators with every kind of scope, requests and sessions around."""
    people = {
        "admin": make_user(Role.ADMIN),
        "police_69": make_coordinator("69", Force.POLICE),
        "both_69": make_coordinator("69", None),
        "gendarmerie_13": make_coordinator("13", Force.GENDARMERIE),
        "no_scope": make_user(Role.COORDINATOR),
    }
    school_69 = make_establishment("69", force=Force.POLICE)
    undecided_69 = make_establishment("69", force=None)
    school_13 = make_establishment("13", force=Force.GENDARMERIE)
    people["requester_69"] = make_user(Role.REQUESTER, establishment_id=school_69.id)
    people["requester_13"] = make_user(Role.REQUESTER, establishment_id=school_13.id)
    people["requester_alone"] = make_user(Role.REQUESTER)
    make_request(school_69, people["requester_69"], status="draft")
    make_request(school_69, people["requester_69"], status="in_planning")
    make_request(undecided_69, status="submitted")
    make_request(school_13, people["requester_13"], status="in_planning")
    police_69 = make_trainer("69", Force.POLICE)
    gendarme_13 = make_trainer("13", Force.GENDARMERIE)
    both = make_trainer("13", Force.GENDARMERIE)
    both.departements.append(db.session.get(type(police_69.departements[0]), "69"))
    people["trainer_police_69"], people["trainer_gendarme_13"], people["trainer_both"] = (
        police_69.user, gendarme_13.user, both.user)
    start = clock.now()
    given = make_assigned_session(police_69, start, establishment=school_69)
    make_assigned_session(police_69, start, status="offered", establishment=school_69)
    make_assigned_session(gendarme_13, start, establishment=school_13)
    make_assigned_session(both, start)
    db.session.add(SessionReport(intervention_id=given.id, trainer_id=police_69.id, author_id=police_69.user_id,
                                 held=True, people_present=24, editable_until=start))
    db.session.add(JoinRequest(establishment_id=undecided_69.id, user_id=people["requester_alone"].id))
    db.session.flush()
    return people


# For each policy with rows: the action whose object rule the rows must agree with, per role.
AGREEMENT = {
    "request": {Role.REQUESTER: "view", Role.COORDINATOR: "view", Role.ADMIN: "view"},
    "session": {Role.REQUESTER: "view", Role.TRAINER: "view", Role.COORDINATOR: "view", Role.ADMIN: "view"},
    "assignment": {Role.TRAINER: "answer", Role.COORDINATOR: "withdraw", Role.ADMIN: "withdraw"},
    "trainer": {Role.TRAINER: "availability", Role.COORDINATOR: "view", Role.ADMIN: "view"},
    "establishment": {Role.REQUESTER: "view", Role.COORDINATOR: "edit", Role.ADMIN: "edit"},
    "unit": {Role.COORDINATOR: "edit", Role.ADMIN: "edit"},
    "join_request": {Role.REQUESTER: "decide", Role.COORDINATOR: "decide", Role.ADMIN: "decide"},
    "report": {Role.COORDINATOR: "reopen", Role.ADMIN: "reopen"},
}
MODELS = {"request": InterventionRequest, "session": Intervention, "assignment": Assignment, "trainer": Trainer,
          "establishment": Establishment, "unit": Unit, "join_request": JoinRequest, "report": SessionReport}


def test_each_policy_lets_a_person_act_on_exactly_the_rows_it_lists(world):
    compared = 0
    for resource, actions in AGREEMENT.items():
        policy, model = POLICIES[resource], MODELS[resource]
        objects = db.session.scalars(select(model)).unique().all()
        for name, user in world.items():
            listed = set(db.session.scalars(select(model.id).where(policy.rows(user))))
            action = actions.get(user.role)
            allowed = {obj.id for obj in objects if action and policy.allows_object(user, action, obj)}
            assert listed == allowed, f"{resource}, {name}: listed {sorted(listed)}, may act on {sorted(allowed)}"
            compared += len(objects)
    assert compared > 100


def test_the_agenda_lays_out_exactly_the_sessions_the_session_policy_lists(world, clock):
    from datetime import timedelta

    from app.domain.agenda import AgendaFilters, Period, team_agenda, trainer_agenda

    period = Period.of("week", clock.now().date())
    start, end = period.utc_bounds()
    for name, user in world.items():
        if user.role in (Role.COORDINATOR, Role.ADMIN):
            laid_out = {entry.intervention_id for row in team_agenda(db.session, user, period, AgendaFilters()).rows
                        for entries in row.entries.values() for entry in entries}
            listed = set(db.session.scalars(select(Intervention.id).where(
                POLICIES["session"].rows(user), Intervention.starts_at.between(start, end))))
            assert laid_out == listed, f"{name}: the agenda shows {sorted(laid_out)}, the policy lists {sorted(listed)}"
        elif user.role is Role.TRAINER:
            trainer = db.session.scalar(select(Trainer).where(Trainer.user_id == user.id))
            month = trainer_agenda(db.session, user, trainer, Period.of("month", clock.now().date() + timedelta(1)),
                                   "Europe/Paris")
            laid_out = {entry.intervention_id for entries in month.entries.values() for entry in entries}
            asked = set(db.session.scalars(select(Assignment.intervention_id).where(
                POLICIES["assignment"].rows(user))))
            assert laid_out and laid_out == asked, name


def test_scopes_see_their_territory_and_nothing_else(world):
    requests = POLICIES["request"]
    codes = lambda user: {r.departement_code for r in db.session.scalars(  # noqa: E731
        select(InterventionRequest).where(requests.rows(user)))}
    assert codes(world["police_69"]) == {"69"} and codes(world["gendarmerie_13"]) == {"13"}
    assert codes(world["no_scope"]) == set()
    admin_sees = db.session.scalars(select(InterventionRequest.status).where(requests.rows(world["admin"]))).all()
    assert "draft" not in admin_sees and len(admin_sees) == 3  # drafts stay with their establishment
    # A request whose force is not decided is the business of both forces' coordinators of the département.
    undecided = db.session.scalar(select(InterventionRequest).where(InterventionRequest.force.is_(None)))
    assert requests.allows(world["police_69"], "review", undecided)
    assert requests.allows(world["both_69"], "review", undecided)
    assert not requests.allows(world["gendarmerie_13"], "review", undecided)
    assert not requests.allows(world["requester_69"], "review", undecided)


def test_the_role_gate_comes_before_the_object(world):
    trainer = db.session.scalar(select(Trainer).where(Trainer.user_id == world["trainer_police_69"].id))
    trainers = POLICIES["trainer"]
    assert trainers.allows(world["trainer_police_69"], "availability", trainer)
    assert not trainers.allows(world["trainer_police_69"], "edit", trainer)  # their own record, not their role
    assert trainers.allows(world["police_69"], "edit", trainer)
    assert not trainers.allows(world["gendarmerie_13"], "edit", trainer)
    assert not POLICIES["report"].allows(world["police_69"], "reopen", None)
    with pytest.raises(KeyError):
        trainers.allows(world["admin"], "delete", trainer)  # an action no policy has is a programming error


def test_a_view_declaring_an_action_for_a_role_the_policy_refuses_fails_at_import():
    from app.access import permission

    with pytest.raises(ValueError, match="may not perform it"):
        permission("report", "reopen", only=[Role.COORDINATOR])
    with pytest.raises(KeyError):
        permission("report", "rewrite")


def test_a_session_page_is_for_its_trainers_and_reports_are_corrected_within_the_scope(world):
    offered = db.session.scalar(select(Assignment).where(Assignment.status == "offered"))
    session = offered.intervention
    trainer = db.session.get(Trainer, offered.trainer_id).user
    sessions, reports = POLICIES["session"], POLICIES["report"]
    assert sessions.allows(trainer, "brief", session), "an offer is read before it is answered"
    assert not sessions.allows(world["trainer_gendarme_13"], "brief", session)
    assert not sessions.allows(world["police_69"], "brief", session), "the coordination has its own pages"
    report = db.session.scalar(select(SessionReport))
    assert reports.allows(world["police_69"], "correct", report) and reports.allows(world["admin"], "correct", report)
    assert not reports.allows(world["gendarmerie_13"], "correct", report)
    assert not reports.allows(world["trainer_police_69"], "correct", report), "the trainer corrects through the form"
