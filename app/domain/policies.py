"""Who may do what, and which rows each person sees: one policy per resource, in one place.

Each policy says, for its resource:
- `ACTIONS`: the roles that may ever perform each action (the gate of the routes that perform it, before any
  object is loaded; a route may serve one side of an action, e.g. the requester's list of requests);
- `allows(user, action, obj)`: whether this person may perform it on this object (their establishment,
  their territory, their own offer…);
- `rows(user)`: a SQL condition selecting the rows of the resource this person may list.

Views declare the (resource, action) they perform and load their object through `app.access.load`, which
answers 404 outside the scope (existence must not leak); lists, exports, feeds and dashboards filter with
`rows`. The same functions serve the pages, the commands and the jobs. Plain Python: no request here.

A coordinator's territory is a list of scopes (département, force or both forces); an admin sees the whole
country; requesters see their establishment; trainers see what they were asked to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from app.models import (
    Assignment,
    AssignmentStatus,
    CoordinatorScope,
    Departement,
    Establishment,
    Force,
    Intervention,
    InterventionRequest,
    JoinRequest,
    RequestStatus,
    Role,
    SessionReport,
    Trainer,
    Unit,
    User,
    WebhookSubscription,
)
from app.models.trainers import trainer_departement

EVERYONE = frozenset(Role)
STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})
REQUESTER = frozenset({Role.REQUESTER})
TRAINER = frozenset({Role.TRAINER})
ADMIN = frozenset({Role.ADMIN})
LIVE_ASSIGNMENT = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED)


# -- territory ---------------------------------------------------------------------------------------


def covers(user: User, departement_code: str, force: Force | str | None, *, undecided: bool = True) -> bool:
    """Whether a coordinator's scope (or an admin, who sees everything) includes this territory. With
    `undecided`, a territory whose force is not decided yet (a request) belongs to the coordinators of both
    forces; sessions always have their force. The same rule as `territory_condition`, in Python."""
    if user.role is Role.ADMIN:
        return True
    if user.role is not Role.COORDINATOR:
        return False
    force = Force(force) if force else None
    return any(scope.departement_code == departement_code
               and (scope.force is None or scope.force == force or (force is None and undecided))
               for scope in user.scopes)


def territory_condition(user: User, departement_column, force_matches: Callable) -> ColumnElement[bool]:
    """The same rule as SQL: everything for an admin, nothing without a scope, else any (département, force)
    of the scope. `force_matches(force)` says what "in that force" means for the rows at hand."""
    if user.role is Role.ADMIN:
        return true()
    if user.role is not Role.COORDINATOR or not user.scopes:
        return false()
    conditions = []
    for scope in user.scopes:
        condition = departement_column == scope.departement_code
        if scope.force is not None:
            condition = and_(condition, force_matches(scope.force))
        conditions.append(condition)
    return or_(*conditions)


def coordinators_covering(session: Session, departement_code: str, force: Force | None) -> list[User]:
    """The other way round: the active coordinators whose scope covers a territory (both forces when the force
    is not decided), who are told of what happens there."""
    query = (select(User).join(CoordinatorScope, CoordinatorScope.user_id == User.id)
             .where(User.role == Role.COORDINATOR, User.active, User.activated_at.is_not(None),
                    CoordinatorScope.departement_code == departement_code))
    if force is not None:
        query = query.where((CoordinatorScope.force.is_(None)) | (CoordinatorScope.force == force))
    return list(session.scalars(query.order_by(User.id)).unique())


def departements_of(session: Session, user: User) -> list[tuple[str, str]]:
    """(code, « code – name ») of the départements a person works in, by code: every one for an admin. Plain
    rows, for the filters of long lists (a hundred options on every view)."""
    query = select(Departement.code, Departement.name).order_by(Departement.code)
    if user.role is not Role.ADMIN:
        query = query.where(Departement.code.in_({scope.departement_code for scope in user.scopes}))
    return [(code, Departement.label_of(code, name)) for code, name in session.execute(query)]


# -- the policies ------------------------------------------------------------------------------------


class Policy:
    """Base of the policies: the role gate of `ACTIONS`, then the object rule of `allows_object`."""

    resource: ClassVar[str]
    model: ClassVar[type | None] = None
    ACTIONS: ClassVar[dict[str, frozenset[Role]]]

    def roles_for(self, action: str) -> frozenset[Role]:
        return self.ACTIONS[action]

    def allows(self, user: User, action: str, obj: Any = None) -> bool:
        if user.role not in self.ACTIONS[action]:
            return False
        return obj is None or self.allows_object(user, action, obj)

    def allows_object(self, user: User, action: str, obj: Any) -> bool:
        return True

    def rows(self, user: User) -> ColumnElement[bool]:
        """Rows this person may list: none unless the policy says otherwise."""
        return false()


class RequestPolicy(Policy):
    """Requests: their establishment's members write them; the coordination of the territory reviews them once
    submitted (a request whose force is not decided is seen by both forces' coordinators)."""

    resource = "request"
    model = InterventionRequest
    ACTIONS: ClassVar = {"list": REQUESTER | STAFF, "view": REQUESTER | STAFF, "create": REQUESTER,
                         "edit": REQUESTER, "edit_details": REQUESTER | STAFF, "submit": REQUESTER,
                         "duplicate": REQUESTER,
                         "cancel": REQUESTER | STAFF, "review": STAFF}

    def allows_object(self, user: User, action: str, item: InterventionRequest) -> bool:
        if user.role is Role.REQUESTER:
            return user.establishment_id is not None and item.establishment_id == user.establishment_id
        return item.status is not RequestStatus.DRAFT and covers(user, item.departement_code, item.force)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role is Role.REQUESTER:
            if user.establishment_id is None:
                return false()
            return InterventionRequest.establishment_id == user.establishment_id
        if user.role not in STAFF:
            return false()
        return and_(InterventionRequest.status != RequestStatus.DRAFT,
                    territory_condition(user, InterventionRequest.departement_code,
                                        lambda force: or_(InterventionRequest.force == force,
                                                          InterventionRequest.force.is_(None))))


class SessionPolicy(Policy):
    """Sessions (one per group of a request): the establishment follows its own, a trainer those they were
    asked to give, the coordination of the territory and force staffs them."""

    resource = "session"
    model = Intervention
    ACTIONS: ClassVar = {"view": EVERYONE, "cancel": REQUESTER | STAFF, "feedback": REQUESTER, "staff": STAFF,
                         "report": TRAINER, "brief": TRAINER}

    def allows_object(self, user: User, action: str, intervention: Intervention) -> bool:
        if user.role is Role.REQUESTER:
            return (user.establishment_id is not None
                    and intervention.request.establishment_id == user.establishment_id)
        if user.role is Role.TRAINER:
            # A report is asked of whoever was on the session; the session itself is seen while they are on it.
            wanted = None if action == "report" else LIVE_ASSIGNMENT
            return any(a.trainer.user_id == user.id and (wanted is None or a.status in wanted)
                       for a in intervention.assignments)
        return covers(user, intervention.departement_code, intervention.force, undecided=False)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role is Role.REQUESTER:
            if user.establishment_id is None:
                return false()
            return Intervention.request_id.in_(select(InterventionRequest.id).where(
                InterventionRequest.establishment_id == user.establishment_id))
        if user.role is Role.TRAINER:
            return exists().where(Assignment.intervention_id == Intervention.id,
                                  Assignment.status.in_(LIVE_ASSIGNMENT),
                                  Assignment.trainer_id.in_(select(Trainer.id).where(Trainer.user_id == user.id)))
        return territory_condition(user, Intervention.departement_code, lambda force: Intervention.force == force)


class AssignmentPolicy(Policy):
    """Offers and assignments: the trainer answers their own; the coordination of the session withdraws them."""

    resource = "assignment"
    model = Assignment
    ACTIONS: ClassVar = {"answer": TRAINER, "withdraw": STAFF}

    def allows_object(self, user: User, action: str, assignment: Assignment) -> bool:
        if user.role is Role.TRAINER:
            return assignment.trainer.user_id == user.id
        return SESSIONS.allows_object(user, "staff", assignment.intervention)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role is Role.TRAINER:
            return Assignment.trainer_id.in_(select(Trainer.id).where(Trainer.user_id == user.id))
        if user.role not in STAFF:
            return false()
        return Assignment.intervention_id.in_(select(Intervention.id).where(SESSIONS.rows(user)))


class TrainerPolicy(Policy):
    """Trainers: the coordination manages those serving a département of its scope, in its force; a trainer
    keeps their own availability up to date."""

    resource = "trainer"
    model = Trainer
    ACTIONS: ClassVar = {"list": STAFF, "create": STAFF, "import": STAFF, "view": STAFF, "edit": STAFF,
                         "availability": TRAINER | STAFF}

    def allows_object(self, user: User, action: str, trainer: Trainer) -> bool:
        if user.role is Role.TRAINER:
            return trainer.user_id == user.id
        return self.serves_scope(user, trainer.force, [d.code for d in trainer.departements])

    @staticmethod
    def serves_scope(user: User, force: Force | str, departement_codes) -> bool:
        """A trainer of this force serving these départements is in the person's territory."""
        return any(covers(user, code, force, undecided=False) for code in departement_codes)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role is Role.TRAINER:
            return Trainer.user_id == user.id
        condition = territory_condition(user, trainer_departement.c.departement_code,
                                        lambda force: Trainer.force == force)
        if user.role is not Role.COORDINATOR or not user.scopes:
            return condition
        # An EXISTS: a trainer serving two départements of the scope appears once.
        return exists().where(trainer_departement.c.trainer_id == Trainer.id, condition)


class EstablishmentPolicy(Policy):
    """Establishments: a requester registers or joins one, then its members keep it up to date; the coordination
    of its territory sees it (both forces' while its force is not decided)."""

    resource = "establishment"
    model = Establishment
    ACTIONS: ClassVar = {"register": REQUESTER, "join": REQUESTER, "view": REQUESTER, "edit": REQUESTER | STAFF,
                         "invite": REQUESTER, "confirm": STAFF, "list": STAFF}

    def allows_object(self, user: User, action: str, establishment: Establishment) -> bool:
        if user.role is Role.REQUESTER:
            return user.establishment_id == establishment.id
        return covers(user, establishment.departement_code, establishment.force)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role is Role.REQUESTER:
            return false() if user.establishment_id is None else Establishment.id == user.establishment_id
        if user.role not in STAFF:
            return false()
        return territory_condition(user, Establishment.departement_code,
                                   lambda force: or_(Establishment.force == force, Establishment.force.is_(None)))


class UnitPolicy(Policy):
    """Units, where trainers leave from: the coordination keeps those of its territory and force up to date."""

    resource = "unit"
    model = Unit
    ACTIONS: ClassVar = {"list": STAFF, "create": STAFF, "edit": STAFF}

    def allows_object(self, user: User, action: str, unit: Unit) -> bool:
        return covers(user, unit.departement_code, unit.force, undecided=False)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role not in STAFF:
            return false()
        return territory_condition(user, Unit.departement_code, lambda force: Unit.force == force)


class JoinRequestPolicy(Policy):
    """Requests to join an establishment: its active members decide, or the coordination of its territory when
    nobody there can (the domain says when: app.domain.establishments)."""

    resource = "join_request"
    model = JoinRequest
    ACTIONS: ClassVar = {"list": STAFF, "decide": REQUESTER | STAFF}

    def allows_object(self, user: User, action: str, join_request: JoinRequest) -> bool:
        if user.role is Role.REQUESTER:
            return user.establishment_id is not None and join_request.establishment_id == user.establishment_id
        return ESTABLISHMENTS.allows_object(user, action, join_request.establishment)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role is Role.REQUESTER:
            return (false() if user.establishment_id is None
                    else JoinRequest.establishment_id == user.establishment_id)
        return JoinRequest.establishment_id.in_(select(Establishment.id).where(ESTABLISHMENTS.rows(user)))


class ReportPolicy(Policy):
    """Reports after a session: trainers file theirs (through the session's "report" action); the coordination
    of the session reads and corrects them; an admin reopens a locked one for its trainer."""

    resource = "report"
    model = SessionReport
    ACTIONS: ClassVar = {"list": STAFF, "view": STAFF, "correct": STAFF, "reopen": ADMIN}

    def allows_object(self, user: User, action: str, report: SessionReport) -> bool:
        return SESSIONS.allows_object(user, "staff", report.intervention)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role not in STAFF:
            return false()
        return SessionReport.intervention_id.in_(select(Intervention.id).where(SESSIONS.rows(user)))


class FeedPolicy(Policy):
    """Calendar feeds: everyone has their own (a requester's is their establishment's); an admin may replace
    every address at once. The subscribed address itself is public: its token is the key."""

    resource = "feed"
    ACTIONS: ClassVar = {"view": EVERYONE, "reset": EVERYONE, "reset_all": ADMIN}


class ExportPolicy(Policy):
    """Exports of the coordination's territory: the schedule, the roster, the dashboard's tables. Their rows are
    the sessions' and trainers' own."""

    resource = "export"
    ACTIONS: ClassVar = {"sessions": STAFF, "trainers": STAFF, "statistics": STAFF}


class PlanningPolicy(Policy):
    """Planning a period of a territory (département, force) and sending its offers."""

    resource = "planning"
    ACTIONS: ClassVar = {"plan": STAFF}

    def allows_object(self, user: User, action: str, territory: tuple[str, Force | None]) -> bool:
        departement_code, force = territory
        return covers(user, departement_code, force)


class AutopilotPolicy(Policy):
    """The autopilot of a coordination scope (département, force): its coordinators choose its mode and send the
    offers it proposes."""

    resource = "autopilot"
    ACTIONS: ClassVar = {"configure": STAFF, "send": STAFF}

    def allows_object(self, user: User, action: str, territory: tuple[str, Force]) -> bool:
        departement_code, force = territory
        return covers(user, departement_code, force, undecided=False)


class AgendaPolicy(Policy):
    """The agenda by trainer and day: the coordination's of its territory (its rows are the sessions' and
    trainers' own), a trainer's of their own offers, sessions and unavailabilities."""

    resource = "agenda"
    ACTIONS: ClassVar = {"team": STAFF, "own": TRAINER}


class StatisticsPolicy(Policy):
    """The dashboards: the coordination's territory, the whole country for admins."""

    resource = "statistics"
    ACTIONS: ClassVar = {"view": STAFF}


class AccountPolicy(Policy):
    """People's accounts and the national administration (accounts, invitations, the outbox)."""

    resource = "account"
    model = User
    ACTIONS: ClassVar = {"home": EVERYONE, "sessions": EVERYONE, "list": ADMIN, "invite": ADMIN, "outbox": ADMIN,
                        "security": ADMIN, "reset_second_factor": ADMIN}


class CoordinationOfficePolicy(Policy):
    """The coordination's address of each département and force (where answers to invitations go): the national
    administration sets them."""

    resource = "coordination_office"
    ACTIONS: ClassVar = {"list": ADMIN, "edit": ADMIN}


class CalDAVPolicy(Policy):
    """A person's own CalDAV calendar, where Relais writes the sessions they are invited to: trainers and
    establishments' staff (the people invitations go to), each their own."""

    resource = "caldav"
    ACTIONS: ClassVar = {"connect": REQUESTER | TRAINER, "disconnect": REQUESTER | TRAINER}


class AccessTokenPolicy(Policy):
    """A person's own personal access tokens of the API (issue #22): everyone makes, lists and revokes theirs."""

    resource = "access_token"
    ACTIONS: ClassVar = {"list": EVERYONE, "create": EVERYONE, "revoke": EVERYONE}


class WebhookPolicy(Policy):
    """Webhook subscriptions (#22): an establishment's staff manage their establishment's, the coordinators those
    of a territory of their scope (a scope of both forces covers either force's), the administrators all of them."""

    resource = "webhook"
    model = WebhookSubscription
    ACTIONS: ClassVar = {"list": REQUESTER | STAFF, "view": REQUESTER | STAFF, "create": REQUESTER | STAFF,
                         "edit": REQUESTER | STAFF, "replay": REQUESTER | STAFF}

    def allows_object(self, user: User, action: str, subscription: WebhookSubscription) -> bool:
        if user.role is Role.ADMIN:
            return True
        if subscription.establishment_id is not None:
            return user.role is Role.REQUESTER and user.establishment_id == subscription.establishment_id
        return user.role is Role.COORDINATOR and any(
            scope.departement_code == subscription.departement_code
            and (scope.force is None or scope.force == subscription.force) for scope in user.scopes)

    def rows(self, user: User) -> ColumnElement[bool]:
        if user.role is Role.ADMIN:
            return true()
        if user.role is Role.REQUESTER:
            return (false() if user.establishment_id is None
                    else WebhookSubscription.establishment_id == user.establishment_id)
        if user.role is not Role.COORDINATOR or not user.scopes:
            return false()
        return or_(*[and_(WebhookSubscription.departement_code == scope.departement_code,
                          true() if scope.force is None else WebhookSubscription.force == scope.force)
                     for scope in user.scopes])


class PrivacyPolicy(Policy):
    """Personal data (RGPD, #21): everyone downloads their own and asks for its correction; the national
    administration sets how long each kind is kept."""

    resource = "privacy"
    ACTIONS: ClassVar = {"own_data": EVERYONE, "correct": EVERYONE, "retention": ADMIN}


class AuditPolicy(Policy):
    """The audit trail (#21): admins search and export it; the coordination reads the history of the objects of its
    territory (the object is loaded through its own policy)."""

    resource = "audit"
    ACTIONS: ClassVar = {"search": ADMIN, "export": ADMIN, "history": STAFF}


REQUESTS = RequestPolicy()
SESSIONS = SessionPolicy()
ASSIGNMENTS = AssignmentPolicy()
TRAINERS = TrainerPolicy()
ESTABLISHMENTS = EstablishmentPolicy()
UNITS = UnitPolicy()
JOIN_REQUESTS = JoinRequestPolicy()
REPORTS = ReportPolicy()
FEEDS = FeedPolicy()
EXPORTS = ExportPolicy()
PLANNING = PlanningPolicy()
AUTOPILOT = AutopilotPolicy()
AGENDA = AgendaPolicy()
STATISTICS = StatisticsPolicy()
ACCOUNTS = AccountPolicy()
CALDAV = CalDAVPolicy()
WEBHOOKS = WebhookPolicy()
ACCESS_TOKENS = AccessTokenPolicy()
COORDINATION_OFFICES = CoordinationOfficePolicy()
AUDIT = AuditPolicy()
PRIVACY = PrivacyPolicy()
POLICIES: dict[str, Policy] = {policy.resource: policy for policy in (
    REQUESTS, SESSIONS, ASSIGNMENTS, TRAINERS, ESTABLISHMENTS, UNITS, JOIN_REQUESTS, REPORTS, FEEDS, EXPORTS, PLANNING,
    AUTOPILOT, AGENDA, STATISTICS, ACCOUNTS, COORDINATION_OFFICES, CALDAV, WEBHOOKS, ACCESS_TOKENS,
    PRIVACY, AUDIT)}


def policy_table() -> list[tuple[str, str, frozenset[Role]]]:
    """(resource, action, roles) of every policy, in order: what the route audit prints and checks."""
    return [(policy.resource, action, roles) for policy in POLICIES.values()
            for action, roles in policy.ACTIONS.items()]


def visible(policy: Policy, user: User, query: Select) -> Select:
    """A list query restricted to the rows the person may see."""
    return query.where(policy.rows(user))
