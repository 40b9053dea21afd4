"""A realistic, deterministic demo data set: same seed, same data.

`demo` scale fills a handful of départements for people trying Relais; `national` scale fills every
département at the size of the real programme (for benchmarks). Each feature adds its own step to
`DemoBuilder.build`, so that every page of the app has content in every state.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import cos, radians

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import audit
from app.domain.demo_year import AUDIENCES_BY_KIND, CANCEL_REASONS, COMMON_TOPICS, YEAR_SESSIONS, generate_year
from app.domain.identifiers import make_siret, make_uai
from app.domain.passwords import hash_password
from app.domain.policies import coordinators_covering
from app.domain.reference import load_departements
from app.domain.reference_data import DATA_DIR, sync_reference_data
from app.domain.refusals import Refused
from app.domain.retention import build_demo_history
from app.models import (
    Audience,
    CommuneCompetence,
    CoordinationOffice,
    CoordinatorScope,
    Departement,
    Establishment,
    EstablishmentKind,
    Force,
    Role,
    Topic,
    Trainer,
    Unit,
    UnitKind,
    User,
)

DEMO_PASSWORD = "Prevention-Relais-2026"
# The second factor of every demo coordinator and admin (#21): an authenticator app takes it, or `flask totp-code`.
DEMO_TOTP_SECRET = "RELAISDEMOTOTPSECRETKEYABCDEFGHI"
# A personal access token of the API (#22) for the first demo coordinator: known in advance, printed with the
# logins (`flask demo-logins`); demo data only — a real token is random and shown once.
DEMO_API_TOKEN = "relais_pat_demo-coordination-police-Prevention-Relais-2026"
MessageWriter = Callable[[Session, datetime], None]
DEMO_DEPARTEMENTS = ("69", "13", "33", "59", "75", "2A", "57", "974")
POLICE_RANKS = ("Gardien de la paix", "Brigadier", "Brigadier-chef", "Major", "Capitaine")
GENDARMERIE_RANKS = ("Gendarme", "Maréchal des logis-chef", "Adjudant", "Adjudant-chef", "Lieutenant")


def demo_communes() -> dict[str, list[tuple[str, str, str, tuple[float, float]]]]:
    """Real communes of the demo's départements (app/data/demo_communes.csv: the préfecture first, then others):
    INSEE code, name, postcode and position, so that a newcomer reads the places a user would."""
    communes: dict[str, list] = defaultdict(list)
    with (DATA_DIR / "demo_communes.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            communes[row["departement"]].append((row["insee"], row["name"], row["postcode"],
                                                (float(row["latitude"]), float(row["longitude"]))))
    return dict(communes)


@dataclass(frozen=True)
class Scale:
    departements: tuple[str, ...]
    communes_per_departement: int
    establishments_per_departement: int
    trainers_per_force_per_departement: int
    year_sessions: int = 0  # the school year of "today" topped up to this many sessions (app.domain.demo_year)


SCALES = {
    "demo": Scale(DEMO_DEPARTEMENTS, 14, 12, 5),
    # 101 départements × 60 ≈ 6,000 establishments; × 2 forces × 8 ≈ 1,600 trainers; a year of 50,000 sessions.
    "national": Scale(tuple(d.code for d in load_departements()), 40, 60, 8, YEAR_SESSIONS),
}


@dataclass
class DemoAccount:
    role: str
    email: str
    description: str


@dataclass
class DemoResult:
    accounts: list[DemoAccount] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    password: str = DEMO_PASSWORD


class DemoBuilder:
    TRAVEL = timedelta(hours=1)  # between two sessions of one trainer at different places
    def __init__(self, session: Session, seed: int, scale: str, today: date, password_hash_method: str | None = None,
                 year_sessions: int | None = None, write_messages: MessageWriter | None = None,
                 caldav_keys=None):
        self.session = session
        self.write_messages = write_messages
        self.caldav_keys = caldav_keys  # the application's (flask demo-data): the demo's passwords stay readable
        self.seed = seed
        self.random = random.Random(seed)
        self.fake = Faker("fr_FR")
        self.fake.seed_instance(seed)
        self.scale = SCALES[scale]
        self.scale_name = scale
        self.year_sessions = self.scale.year_sessions if year_sessions is None else year_sessions
        self.today = today
        self.result = DemoResult()
        # One hash for every demo account: hashing thousands of passwords would take minutes.
        self.password_hash = hash_password(DEMO_PASSWORD, password_hash_method)
        self.departements: dict[str, Departement] = {}
        self.communes: dict[str, list[CommuneCompetence]] = {}
        self.commune_positions: dict[str, tuple[float, float]] = {}
        self.units: dict[tuple[str, Force], Unit] = {}
        self.establishments: list[Establishment] = []
        self.trainers: list[Trainer] = []
        self.booked: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)  # trainer → their sessions
        self._email_counter = 0
        # The staff's TOTP secret, encrypted once with the application's key (readable only with it).
        from cryptography.fernet import Fernet, MultiFernet

        totp_keys = caldav_keys or MultiFernet([Fernet(Fernet.generate_key())])
        self._totp_secret = totp_keys.encrypt(DEMO_TOTP_SECRET.encode()).decode()

    # -- helpers ---------------------------------------------------------------------------------

    def _user(self, role: Role, full_name: str, email: str | None = None, **extra) -> User:
        if email is None:
            self._email_counter += 1
            local = self.fake.unique.user_name()
            email = f"{local}.{self._email_counter}@{self._domain_for(role)}"
        if role in (Role.COORDINATOR, Role.ADMIN):  # their password sign-in asks for a code: enrolled already
            extra.setdefault("totp_secret", self._totp_secret)
            extra.setdefault("totp_confirmed_at", self._moment(days_ago=20))
        user = User(email=email, full_name=full_name, role=role, password_hash=self.password_hash,
                    activated_at=self._moment(days_ago=self.random.randint(30, 400)), **extra)
        self.session.add(user)
        return user

    @staticmethod
    def _domain_for(role: Role) -> str:
        return {Role.TRAINER: "interieur.demo", Role.COORDINATOR: "interieur.demo",
                Role.ADMIN: "interieur.demo", Role.REQUESTER: "etablissement.demo"}[role]

    def _moment(self, days_ago: int):
        from datetime import UTC, datetime, time

        return datetime.combine(self.today - timedelta(days=days_ago), time(9, 0), tzinfo=UTC)

    def _near(self, latitude: float, longitude: float, max_km: float) -> tuple[float, float]:
        distance = self.random.uniform(0, max_km)
        bearing = self.random.uniform(0, 360)
        dlat = distance / 111.0 * cos(radians(bearing))
        dlon = distance / (111.0 * max(cos(radians(latitude)), 0.2)) * (1 if bearing < 180 else -1) * abs(
            cos(radians(bearing - 90)))
        return round(latitude + dlat, 5), round(longitude + dlon, 5)

    # -- steps -----------------------------------------------------------------------------------

    def build(self) -> DemoResult:
        sync_reference_data(self.session)
        self.departements = {d.code: d for d in self.session.scalars(select(Departement))}
        self.topics = list(self.session.scalars(select(Topic).order_by(Topic.position)))
        self.audiences = list(self.session.scalars(select(Audience).order_by(Audience.position)))
        self.build_communes()
        self.build_units()
        self.build_staff_accounts()
        self.build_coordination_offices()
        self.build_establishments()
        self.build_trainers()
        self.build_availability()
        self.build_requests()
        self.session.flush()
        self.build_offers()
        self.build_agenda_weeks()
        self.build_report_stories()
        self.build_partly_cancelled_request()
        self.build_outbox()
        self.build_caldav_connections()
        self.build_join_requests()
        self.build_autopilot()
        self.build_api_token()
        self.build_webhooks()
        # Traces of the retention periods (#21): old requests anonymised, an unused account warned.
        build_demo_history(self.session, self.establishments, self._moment(days_ago=0))
        self.result.counts.update({
            "départements": len(self.scale.departements),
            "communes": sum(len(c) for c in self.communes.values()),
            "établissements": len(self.establishments),
            "formateurs": len(self.trainers),
            "demandes d'intervention": self.request_count,
            "messages": self.message_count,
        })
        if self.year_sessions:
            # Last, on top of the rest: a country's school year, given, reported and to come.
            year = generate_year(self.session, now=datetime.combine(self.today, time(8, 0), tzinfo=UTC),
                                 seed=self.seed, sessions=self.year_sessions)
            self.result.counts["interventions de l'année scolaire"] = year.sessions
        return self.result

    def build_api_token(self) -> None:
        """The demo coordinator's token of the API (#22), read and write, a year from today."""
        from app.domain.access_tokens import DEFAULT_DAYS, SHOWN_PREFIX, token_hash
        from app.models import AccessToken, TokenScope

        coordinator = self.session.scalar(select(User).where(User.email.like("coordination.police.%@relais.demo"))
                                          .order_by(User.email).limit(1))
        if coordinator is None:
            return
        made = datetime.combine(self.today, time(8, 0), tzinfo=UTC)
        self.session.add(AccessToken(user_id=coordinator.id, name="Tableur de la coordination (démonstration)",
                                     prefix=DEMO_API_TOKEN[:SHOWN_PREFIX], token_hash=token_hash(DEMO_API_TOKEN),
                                     scope=TokenScope.READ_WRITE, created_at=made,
                                     expires_at=made + timedelta(days=DEFAULT_DAYS)))
        self.session.flush()

    def build_webhooks(self) -> None:
        """Webhooks (#22): the demo collège's tool and the demo police coordination's dashboard are subscribed, each
        with a log of deliveries: most received, one the collège's server refused (tried again later), one the
        coordination's took too long to answer."""
        import uuid as uuid_module

        from cryptography.fernet import Fernet, MultiFernet

        from app.domain import webhooks
        from app.models import DeliveryStatus, InterventionRequest, WebhookDelivery, WebhookSubscription

        keys = self.caldav_keys or MultiFernet([Fernet(Fernet.generate_key())])
        chance = random.Random(self.seed + 22)  # its own draws: the rest of the demo stays as it was
        now = self._moment(days_ago=0)
        requester = self.session.scalar(select(User).where(User.email == "principal.college@relais.demo"))
        coordinator = self.session.scalar(select(User).where(User.email.like("coordination.police.%@relais.demo"))
                                          .order_by(User.email).limit(1))
        owners = []
        if requester is not None and requester.establishment_id is not None:
            owners.append((requester, {"establishment_id": requester.establishment_id},
                           "https://outils.college-demo.fr/relais/webhook", "Logiciel de vie scolaire",
                           InterventionRequest.establishment_id == requester.establishment_id, ("503", None)))
        if coordinator is not None and coordinator.scopes:
            scope = coordinator.scopes[0]
            owners.append((coordinator, {"departement_code": scope.departement_code, "force": scope.force},
                           "https://tableau.coordination.demo/hooks/relais", "Tableau de bord de la coordination",
                           InterventionRequest.departement_code == scope.departement_code, (None, "timeout")))
        for owner, where, url, description, condition, failure in owners:
            subscription = WebhookSubscription(
                url=url, description=description, events=",".join(webhooks.EVENTS), owner_id=owner.id,
                secret_encrypted=keys.encrypt(webhooks.new_secret().encode()).decode(), active=True,
                consecutive_failures=1, created_at=self._moment(days_ago=30), updated_at=self._moment(days_ago=30),
                **where)
            self.session.add(subscription)
            self.session.flush()
            requests = self.session.scalars(select(InterventionRequest).where(
                condition, InterventionRequest.submitted_at.is_not(None)).order_by(InterventionRequest.id).limit(6)
            ).all()
            for number, request in enumerate(requests):
                delivery_id = str(uuid_module.UUID(int=chance.getrandbits(128), version=4))
                at = now - timedelta(days=len(requests) - number, hours=chance.randint(0, 6))
                body = webhooks.payload(self.session, delivery_id, "request.submitted", at, request, None,
                                        for_establishment="establishment_id" in where)
                delivery = WebhookDelivery(
                    uuid=delivery_id, subscription_id=subscription.id, event="request.submitted", payload=body,
                    occurred_at=at, created_at=at, status=DeliveryStatus.DELIVERED, attempts=1,
                    next_attempt_at=at, last_attempt_at=at, delivered_at=at, response_status=200,
                    response_headers="Content-Type: application/json", response_body='{"recu": true}',
                    duration_ms=chance.randint(80, 400))
                if number == len(requests) - 1:  # the latest: refused or unanswered, tried again with back-off
                    status, error = failure
                    delivery.status, delivery.attempts, delivery.delivered_at = DeliveryStatus.PENDING, 1, None
                    delivery.next_attempt_at = now + timedelta(minutes=2)
                    delivery.response_status = int(status) if status else None
                    delivery.response_body = "Service Unavailable" if status else None
                    delivery.response_headers = "Content-Type: text/plain" if status else None
                    delivery.error, delivery.duration_ms = error, 5000 if error else 35
                self.session.add(delivery)
        self.session.flush()

    def build_communes(self) -> None:
        """A competence table in the ministry's format, loaded through the real importer.

        The préfecture is police, most other communes gendarmerie; one commune per département is left
        out of the table, so that its establishments show the "force à déterminer" case.
        """
        import tempfile
        from pathlib import Path

        from app.domain.imports.competence import import_competence, read_competence_file, write_competence_csv

        rows, missing = [], {}
        real_communes, order = demo_communes(), {}
        for code in self.scale.departements:
            departement = self.departements[code]
            for index in range(self.scale.communes_per_departement):
                number = 1 + index * 7 if len(code) == 2 else 1 + index * 2  # overseas codes have 2 digits left
                insee = f"{code}{number:03d}" if len(code) == 2 else f"{code}{number:02d}"
                force = Force.POLICE if index == 0 or self.random.random() < 0.25 else Force.GENDARMERIE
                name = self.fake.unique.city() if index else departement.prefecture
                postcode = f"{code.replace('2A', '20').replace('2B', '20')}{self.random.randint(0, 999):03d}"[:5]
                # The ministry's table has no coordinates; the demo places communes around the préfecture.
                position = ((departement.latitude, departement.longitude) if index == 0
                            else self._near(departement.latitude, departement.longitude, 45))
                if index < len(real_communes.get(code, ())):
                    # Real communes where the demo has them (the draws above are made all the same, so that the
                    # rest of the demo does not change with the list).
                    insee, name, postcode, position = real_communes[code][index]
                else:
                    # A made-up code must be no real commune's nor another one's (national scale: 59183 is
                    # Dunkerque).
                    taken = {real[0] for real in real_communes.get(code, ())} | set(order)
                    while insee in taken:
                        number += 1
                        insee = f"{code}{number:03d}" if len(code) == 2 else f"{code}{number:02d}"
                self.commune_positions[insee] = position
                order[insee] = len(order)
                if index == 5:
                    missing[insee] = CommuneCompetence(insee_code=insee, name=name, departement_code=code,
                                                       force=None, postcode=postcode, postcodes=postcode)
                    continue
                rows.append({"code_commune": insee, "libelle_commune": name,
                             "institution": "PN" if force is Force.POLICE else "GN",
                             "id_service": f"{'PN' if force is Force.POLICE else 'GN'}-{code}-{index:03d}",
                             "service": f"Commissariat de {name}" if force is Force.POLICE else f"Brigade de {name}",
                             "code_postal": postcode, "codes_postaux": postcode})
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "competence-territoriale-demo.csv"
            path.write_text(write_competence_csv(rows), encoding="utf-8")
            report = import_competence(self.session, read_competence_file(path))
        if not report.ok:
            raise RuntimeError("demo competence table rejected: " + "; ".join(map(str, report.errors)))
        loaded = {c.insee_code: c for c in self.session.scalars(select(CommuneCompetence))}
        for insee, commune in loaded.items():
            commune.latitude, commune.longitude = self.commune_positions[insee]
        for code in self.scale.departements:
            self.communes[code] = sorted(
                [c for c in (*loaded.values(), *missing.values()) if c.departement_code == code],
                key=lambda c: order[c.insee_code])  # the order they were drawn in, préfecture first

    # Scenarios of the demo requests, cycled over establishments: every state of the life cycle.
    REQUEST_SCENARIOS = ("done_last_year", "submitted", "in_planning", "draft", "in_planning", "refused", "confirmed",
                         "in_planning", "cancelled", "done_recently", "submitted")
    REQUEST_NOTES = ("Deux classes de 4e ont été concernées par des faits de consommation cette année.",
                     "Séances prévues dans le cadre du CESCE ; l'infirmière scolaire sera présente.",
                     "Merci de prévoir un temps de questions-réponses avec les élèves.",
                     "Intervention souhaitée avant le forum santé de l'établissement.", "")
    REFUSALS = ("Aucun formateur disponible sur ces dates : merci de proposer d'autres périodes.",
                "Public hors du champ des interventions de prévention de la gendarmerie.")

    def _window_start(self, establishment: Establishment, days_from_today: int) -> date:
        """A Monday from which a school week is open (no public or school holiday on Monday)."""
        from app.domain.holidays import check_day

        day = self.today + timedelta(days=days_from_today)
        day += timedelta(days=(7 - day.weekday()) % 7)
        for _ in range(12):
            if not check_day(establishment.departement_code, establishment.holiday_zone, day,
                             establishment.kind.is_school).is_blocked:
                break
            day += timedelta(days=7)
        return day

    def _open_days(self, establishment: Establishment, first: date, last: date) -> list[date]:
        """The weekdays of a window when the establishment can receive a session (no public or school holiday)."""
        from app.domain.holidays import check_day

        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        return [day for day in days if day.weekday() < 5 and not check_day(
            establishment.departement_code, establishment.holiday_zone, day, establishment.kind.is_school).is_blocked
                ] or [first]  # _window_start made `first` open

    def _free_team(self, trainers: list, number: int, needed: int, starts_at: datetime, ends_at: datetime) -> list:
        """Up to `needed` trainers of the territory, in turn from the `number`-th, free at that time (an hour's
        travel either side of their other sessions of the demo): nobody is booked twice at once."""
        team = []
        for k in range(len(trainers)):
            trainer = trainers[(number + k) % len(trainers)]
            if all(ends_at + self.TRAVEL <= begin or end + self.TRAVEL <= starts_at
                   for begin, end in self.booked[trainer.id]):
                team.append(trainer)
                if len(team) == needed:
                    break
        for trainer in team:
            self.booked[trainer.id].append((starts_at, ends_at))
        return team

    def build_requests(self) -> None:
        """Requests from establishments in every state, with history, sessions and some feedback."""
        from datetime import UTC, datetime, time

        from app.domain import lifecycle
        from app.domain.timezones import to_utc
        from app.models import (
            Assignment,
            AssignmentStatus,
            Feedback,
            InterventionRequest,
            InterventionStatus,
            RequestWindow,
        )

        topics = {topic.code: topic for topic in self.topics}
        audiences = {audience.code: audience for audience in self.audiences}
        coordinators = {}
        trainers_by_territory: dict[tuple[str, Force], list[Trainer]] = {}
        for trainer in self.trainers:
            trainers_by_territory.setdefault((trainer.unit.departement_code, trainer.force), []).append(trainer)
        self.request_count = 0
        scenario_index = 0
        for establishment in self.establishments:
            members = [user for user in establishment.members if user.password_hash]
            if not members:
                continue
            requester = members[0]
            count = 7 if establishment is self.establishments[0] else self.random.randint(1, 2)
            for _ in range(count):
                scenario = self.REQUEST_SCENARIOS[scenario_index % len(self.REQUEST_SCENARIOS)]
                scenario_index += 1
                past = scenario in ("done_last_year", "done_recently")
                offset = {"done_last_year": -360, "done_recently": -30}.get(scenario, self.random.randint(25, 90))
                created = datetime.combine(self.today + timedelta(days=min(offset, 0) - 20), time(8, 30), tzinfo=UTC)
                start = self._window_start(establishment, offset)
                morning = self.random.random() < 0.6
                request = InterventionRequest(
                    establishment_id=establishment.id, created_by_id=requester.id,
                    departement_code=establishment.departement_code, force=establishment.force,
                    group_count=self.random.choice([1, 2, 2, 3, 4]),
                    people_per_group=self.random.choice([24, 26, 28, 30]) if establishment.kind.is_school
                    else self.random.choice([15, 40, 80]),
                    duration_minutes=60 if establishment.kind.is_school else self.random.choice([90, 120]),
                    room=self.random.choice(["Salle polyvalente", "CDI", "Amphithéâtre", "Salle de réunion"]),
                    equipment=self.random.choice(["Vidéoprojecteur et écran", "Tableau numérique", None]),
                    contact_name=requester.full_name, contact_phone=establishment.phone or "01 23 45 67 89",
                    contact_email=requester.email, notes=self.random.choice(self.REQUEST_NOTES) or None,
                    wants_two_trainers=self.random.random() < 0.2, created_at=created, updated_at=created)
                audience_codes = self.random.choice(AUDIENCES_BY_KIND[establishment.kind])
                request.audiences = [audiences[code] for code in audience_codes]
                request.topics = [topics[code] for code in self.random.sample(COMMON_TOPICS, 2)]
                request.windows = [RequestWindow(
                    start_date=start, end_date=start + timedelta(days=4),
                    start_time=time(8, 0) if morning else time(13, 30),
                    end_time=time(12, 0) if morning else time(17, 0))]
                self.session.add(request)
                lifecycle.record_creation(self.session, request, requester, created)
                self.request_count += 1
                if scenario == "draft":
                    continue
                with audit.acting(_person(requester)):  # the trail says who did what (#21)
                    lifecycle.submit(self.session, request, requester, created + timedelta(hours=1))
                if scenario == "submitted":
                    continue
                key = (establishment.departement_code, establishment.force)
                if key not in coordinators:
                    found = coordinators_covering(self.session, *key)
                    coordinators[key] = found[0] if found else None
                coordinator = coordinators[key]
                decided = created + timedelta(days=3)
                if scenario == "cancelled":
                    lifecycle.cancel_request(self.session, request, requester, self.random.choice(CANCEL_REASONS),
                                             created + timedelta(days=2))
                    continue
                with audit.acting(_person(coordinator)):
                    if scenario == "refused":
                        lifecycle.refuse(self.session, request, coordinator, self.random.choice(self.REFUSALS),
                                         decided)
                        continue
                    if request.force is None:
                        lifecycle.override_force(self.session, request, coordinator, Force.GENDARMERIE, decided)
                    lifecycle.accept(self.session, request, coordinator, decided)
                    self.session.flush()  # the sessions it creates, noted as the coordinator's
                if scenario == "in_planning":
                    continue
                trainers = trainers_by_territory.get((request.departement_code, request.force), [])
                timezone_name = establishment.timezone
                open_days = self._open_days(establishment, start, start + timedelta(days=4))
                for number, intervention in enumerate(request.interventions):
                    day = open_days[number % len(open_days)]
                    begins = time(9 + number % 3, 0) if morning else time(14, 0)
                    intervention.starts_at = to_utc(day, begins, timezone_name)
                    intervention.ends_at = intervention.starts_at + timedelta(minutes=request.duration_minutes)
                    # A recent session out of three still waits for its report (the trainers are chased).
                    reported = past and not (scenario == "done_recently" and number % 3 == 2)
                    intervention.status = InterventionStatus.DONE if reported else InterventionStatus.CONFIRMED
                    # A pair session gets two different trainers (free then); the staffing counter follows.
                    team = self._free_team(trainers, number, intervention.trainers_needed, intervention.starts_at,
                                           intervention.ends_at)
                    if team:
                        for trainer in team:
                            intervention.assignments.append(Assignment(
                                trainer_id=trainer.id, status=AssignmentStatus.ACCEPTED, offered_at=decided,
                                answered_at=decided + timedelta(days=1), accepted_at=decided + timedelta(days=1),
                                offered_by_id=coordinator.id if coordinator else None))
                        intervention.confirmed_at = decided + timedelta(days=1)
                        intervention.trainers_needed = len(intervention.assignments)
                        intervention.accepted_count = len(intervention.assignments)
                        if reported:
                            self._reports(intervention, request, team)
                    if scenario == "done_last_year" and self.random.random() < 0.8:
                        given = intervention.ends_at + timedelta(days=2)
                        intervention.feedback = Feedback(
                            author_id=requester.id, satisfaction=self.random.choice([3, 4, 4, 5, 5]),
                            comment=self.random.choice(["Intervention très appréciée des élèves.",
                                                        "Échanges riches, formateurs à l'écoute.", None]),
                            created_at=given, updated_at=given)
                self.session.flush()
                lifecycle.recompute_request_status(self.session, request, decided + timedelta(days=2))

    def _reports(self, intervention, request, trainers) -> None:
        """Each trainer's report of a past session: who came, which topics, a remark now and then."""
        from app.models import SessionReport

        present = max(1, request.people_per_group - self.random.randint(0, 4))
        staff = self.random.choice([0, 1, 2]) if request.establishment.kind.is_school else 0
        filed = intervention.ends_at + timedelta(days=self.random.randint(0, 3))
        for trainer in trainers:
            report = SessionReport(
                trainer=trainer, author=trainer.user, held=True, people_present=present,
                pupils=present - staff if staff else None, staff=staff or None,
                remarks=self.random.choice(self.REPORT_REMARKS) or None,
                created_at=filed, updated_at=filed, editable_until=filed + timedelta(days=30))
            report.topics = list(request.topics)
            intervention.reports.append(report)
        intervention.people_reached = present

    REPORT_REMARKS = ("Élèves attentifs, beaucoup de questions sur le protoxyde d'azote.",
                      "Bonne participation ; prévoir un temps plus long la prochaine fois.",
                      "Salle mal équipée, vidéoprojecteur en panne.", "", "")

    def build_join_requests(self) -> None:
        """A newcomer asks to join a school of the first département where nobody is left to approve them:
        the coordination decides (its home page says so)."""
        from app.models import JoinRequest

        code = self.scale.departements[0]
        orphans = [e for e in self.establishments if e.departement_code == code and not e.members]
        if not orphans:
            return
        # Preferably a school the demo's police coordinator sees.
        orphan = min(orphans, key=lambda e: (e.force is Force.GENDARMERIE, not e.kind.is_school))
        newcomer = self._user(Role.REQUESTER, self.fake.name())
        self.session.add(JoinRequest(establishment=orphan, user=newcomer, created_at=self._moment(days_ago=2),
                                     message="Nouvelle CPE depuis la rentrée, je reprends le dossier prévention."))
        self.build_registration_to_confirm(code)

    def build_autopilot(self) -> None:
        """The autopilot (issue #20) in each mode: the first département's police on "proposed" (a proposal waits on
        its coordinator's home), its gendarmerie on "automatic" (Relais sent offers an hour ago), the second
        département's police on "manual"; the sessions Relais could not serve keep their reason."""
        from app.domain import autopilot
        from app.models import AutopilotMode

        now = self._moment(days_ago=0)
        first, second = self.scale.departements[0], self.scale.departements[1]
        self._requests_accepted_this_week(first, now)
        chosen = ((first, Force.POLICE, AutopilotMode.PROPOSED), (first, Force.GENDARMERIE, AutopilotMode.AUTOMATIC),
                  (second, Force.POLICE, AutopilotMode.MANUAL))
        self.session.flush()
        for code, force, mode in chosen:
            coordinators = coordinators_covering(self.session, code, force)
            if coordinators:
                autopilot.set_mode(self.session, code, force, mode, coordinators[0], now - timedelta(days=20))
        settings = autopilot.AutopilotSettings()
        for code, force, mode in chosen:
            if mode is not AutopilotMode.MANUAL:
                autopilot.plan_scope(self.session, (code, force), now - timedelta(hours=1), settings)
        self.session.flush()

    def _requests_accepted_this_week(self, code: str, now: datetime) -> None:
        """Requests of the first département accepted these last days, for the next weeks, that the autopilot plans:
        three per force, one of them on a theme no trainer there teaches (Relais says it could not serve it)."""
        from app.domain import lifecycle
        from app.models import InterventionRequest, RequestWindow

        topics = {topic.code: topic for topic in self.topics}
        audiences = {audience.code: audience for audience in self.audiences}
        taught = {(t.force, topic.code) for t in self.trainers if t.unit.departement_code == code for topic in t.topics}
        for force in Force:
            schools = [e for e in self.establishments if e.departement_code == code and e.force is force
                       and e.kind.is_school and any(user.password_hash for user in e.members)]
            coordinators = coordinators_covering(self.session, code, force)
            if not schools or not coordinators:
                continue
            for number in range(3):
                establishment = schools[number % len(schools)]
                requester = next(user for user in establishment.members if user.password_hash)
                created = now - timedelta(days=3 - number)
                start = self._window_start(establishment, 14 + 7 * number)
                request = InterventionRequest(
                    establishment_id=establishment.id, created_by_id=requester.id, departement_code=code, force=force,
                    group_count=2 if number == 0 else 1, people_per_group=26, duration_minutes=60, room="CDI",
                    contact_name=requester.full_name, contact_phone=establishment.phone or "01 23 45 67 89",
                    contact_email=requester.email, created_at=created, updated_at=created)
                request.audiences = [audiences[self.random.choice(AUDIENCES_BY_KIND[establishment.kind])[0]]]
                usual = [c for c in COMMON_TOPICS if (force, c) in taught] or list(COMMON_TOPICS)
                rare = [c for c in topics if (force, c) not in taught]
                request.topics = [topics[rare[0] if number == 2 and rare else usual[number % len(usual)]]]
                request.windows = [RequestWindow(start_date=start, end_date=start + timedelta(days=4),
                                                 start_time=time(8, 0), end_time=time(12, 0))]
                self.session.add(request)
                lifecycle.record_creation(self.session, request, requester, created)
                lifecycle.submit(self.session, request, requester, created + timedelta(minutes=5))
                lifecycle.accept(self.session, request, coordinators[0], created + timedelta(hours=2))
                self.request_count += 1
        self.session.flush()

    def build_registration_to_confirm(self, code: str) -> None:
        """A collège registered yesterday by its new principal: the police coordination confirms it (until then it
        may prepare requests, not send them)."""
        commune = next(c for c in self.communes[code] if c.force is Force.POLICE)
        latitude, longitude = self._near(*self.commune_positions[commune.insee_code], 3)
        digits = code.replace("2A", "620").replace("2B", "720")
        taken = {e.uai for e in self.establishments}
        uai = next(u for u in (make_uai(int(f"{digits[:3]:0>3}{serial:04d}")) for serial in range(9999, 0, -1))
                   if u not in taken)
        establishment = Establishment(
            kind=EstablishmentKind.COLLEGE, name="Collège Simone-Veil",
            uai=uai, address=self.fake.street_address(),
            postcode=commune.postcode, commune_name=commune.name, commune_insee=commune.insee_code,
            departement_code=code, latitude=latitude, longitude=longitude, force=commune.force,
            phone=self.fake.phone_number(), created_at=self._moment(days_ago=1))
        self.session.add(establishment)
        self.session.flush()
        self._user(Role.REQUESTER, self.fake.name(), establishment=establishment)

    def build_outbox(self) -> None:
        """The messages of the periodic jobs as `tick` writes them this morning (reports overdue, feedback
        invitations, certification warnings, the coordinators' digest), then as the delivery worker left
        them: most sent, the last few waiting for its next pass, one refused by the recipient's server,
        which the administrator can send again."""
        from app.models import MessageStatus, OutgoingMessage

        self.message_count = 0
        if self.write_messages is None:
            return
        # The jobs that write messages only (app.jobs.write_messages): the offers' expiry commits offer by offer,
        # which would end the demo's single transaction; `tick` will expire them.
        self.write_messages(self.session, self._moment(days_ago=0))
        self.session.flush()
        messages = list(self.session.scalars(select(OutgoingMessage).order_by(OutgoingMessage.id)))
        for number, message in enumerate(messages):
            if number >= len(messages) - 3:
                continue  # still pending
            if number == 1:
                message.status, message.attempts = MessageStatus.FAILED, 5
                message.last_error = (f"550 5.1.1 <{message.recipient}>: adresse inconnue du serveur "
                                      "destinataire (Recipient address rejected)")
            else:
                message.status, message.attempts = MessageStatus.SENT, 1
                message.sent_at = message.created_at + timedelta(minutes=1 + number % 4)
        self.message_count = len(messages)

    # The demo's own CalDAV servers: their names never resolve, so `tick` finds them down and backs off.
    CALDAV_SERVERS = (
        ("formateur.pfad@relais.demo", "https://nuage.interieur.demo/remote.php/dav/",
         "calendars/{user}/personnel/", "Personnel"),
        ("formatrice.frad@relais.demo", "https://agenda.gendarmerie.demo/SOGo/dav/", "{user}/Calendar/personal/",
         "Agenda personnel"),
    )

    def build_caldav_connections(self) -> None:
        """The two demo trainers write their sessions into their own CalDAV calendar (#19): the PFAD's server took
        every change yesterday; the FRAD's has not answered since this morning (the changes wait, tried again
        with back-off), and she changed one session in her calendar, which Relais will not overwrite unless she
        says so."""
        from cryptography.fernet import Fernet, MultiFernet

        from app.domain.caldav_push import personal_copy, resource_url
        from app.domain.calendar import TRAINER, Organizer, session_event, single_event_calendar
        from app.models import (
            Assignment,
            AssignmentStatus,
            CalendarConnection,
            CalendarPush,
            ConnectionState,
            Intervention,
            InterventionStatus,
            PushAction,
            PushStatus,
        )

        now = self._moment(days_ago=0)
        keys = self.caldav_keys or MultiFernet([Fernet(Fernet.generate_key())])
        for index, (email, server, path, name) in enumerate(self.CALDAV_SERVERS):
            trainer = next((t for t in self.trainers if t.user.email == email), None)
            if trainer is None:
                continue
            username = email.split("@")[0]
            connection = CalendarConnection(
                user=trainer.user, server_url=server, username=username, calendar_name=name,
                password_encrypted=keys.encrypt(f"demo-{username}-appli".encode()).decode(),
                calendar_url=server + path.format(user=username), state=ConnectionState.ACTIVE,
                created_at=self._moment(days_ago=45), last_success_at=now - timedelta(days=1 + 2 * index, hours=-2))
            if index == 1:
                connection.last_error, connection.last_error_at = "unreachable", now - timedelta(minutes=40)
            self.session.add(connection)
            self.session.flush()
            sessions = self.session.scalars(
                select(Intervention).join(Assignment, Assignment.intervention_id == Intervention.id)
                .where(Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.ACCEPTED,
                       Intervention.status == InterventionStatus.CONFIRMED, Intervention.ends_at >= now)
                .order_by(Intervention.starts_at)).all()
            for number, intervention in enumerate(sessions):
                event = session_event(intervention, variant=TRAINER, url=f"/formateur/interventions/{intervention.id}",
                                      organizer=Organizer(f"coordination-{intervention.departement_code.lower()}"
                                                          "@interieur.demo"), stamp=now - timedelta(days=1))
                text = personal_copy(single_event_calendar(event, intervention.request.establishment.timezone)
                                     .decode("utf-8"))
                row = CalendarPush(
                    connection_id=connection.id, intervention_id=intervention.id, uid=intervention.ical_uid,
                    action=PushAction.PUT, calendar=text, status=PushStatus.DONE, attempts=0,
                    next_attempt_at=connection.last_success_at, updated_at=connection.last_success_at,
                    done_at=connection.last_success_at, etag=f'"{intervention.ical_uid[:8]}-{number}"',
                    href=resource_url(connection.calendar_url, intervention.ical_uid))
                if index == 1 and number == 0:
                    row.status = PushStatus.CONFLICT
                    row.last_error = "412: changed in the calendar since Relais wrote it"
                elif index == 1:
                    row.status, row.attempts = PushStatus.PENDING, 3
                    row.next_attempt_at, row.last_error = now + timedelta(hours=3), "unreachable"
                self.session.add(row)
        self.session.flush()

    def build_offers(self) -> None:
        """Offers in every state, made through the real rules: pending (two for each demo trainer),
        accepted and confirmed, declined and passed on, flagged back to the coordinator, assigned
        directly; about a third of the sessions stay to schedule, for the planning page."""
        from app.domain import offers
        from app.models import Intervention, InterventionRequest, InterventionStatus, RequestStatus

        now = self._moment(days_ago=0)
        settings = offers.OfferSettings()
        demo_trainers = {t.id for t in self.trainers if t.user.email.endswith("@relais.demo")}
        # Ranking every session of a national data set would take minutes: the offers are a demo of states.
        codes = self.scale.departements[:3]
        sessions = self.session.scalars(
            select(Intervention).join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
            .where(Intervention.status == InterventionStatus.TO_SCHEDULE, Intervention.departement_code.in_(codes),
                   InterventionRequest.status == RequestStatus.IN_PLANNING)
            .order_by(Intervention.id)).all()
        pending_for: dict[int, int] = {}
        declines = ("Déjà en mission ce jour-là.", "Formation continue cette semaine.", "Trop loin de mon unité.")
        for index, intervention in enumerate(sessions):
            try:
                with self.session.begin_nested():  # a refusal leaves nothing half-written
                    self._offer_in_some_state(index, intervention, now, settings, demo_trainers, pending_for,
                                              declines)
            except Refused:
                continue  # the ranking's first start collides with an offer made just before: left to schedule
        self.session.flush()

    def _offer_in_some_state(self, index, intervention, now, settings, demo_trainers, pending_for, declines) -> None:
        """One session of the planning queue in one of the offers' states, by its place in the queue."""
        from app.domain import offers
        from app.domain.matching import rank_intervention
        from app.models import Trainer

        ranking = rank_intervention(self.session, intervention.id, now)
        if ranking is None or not ranking.candidates:
            return
        duration = timedelta(minutes=intervention.request.duration_minutes)
        demo = [c for c in ranking.candidates if c.trainer_id in demo_trainers
                and pending_for.get(c.trainer_id, 0) < 2]
        candidate = demo[0] if demo else ranking.candidates[0]
        start = candidate.all_starts[0]
        trainer = self.session.get(Trainer, candidate.trainer_id)
        if demo:
            pending_for[candidate.trainer_id] = pending_for.get(candidate.trainer_id, 0) + 1
            offers.make_offer(self.session, intervention, trainer, start, start + duration, None, now, settings,
                              candidate.distance_km)
            return
        step = index % 6
        if step in (0, 3):
            return  # stays to schedule
        if step == 5:
            coordinator = first_coordinator(self.session, intervention)
            if coordinator is not None:
                offers.assign_directly(self.session, intervention, trainer, start, start + duration, coordinator,
                                       now - timedelta(days=1), candidate.distance_km)
            return
        change = offers.make_offer(self.session, intervention, trainer, start, start + duration, None,
                                   now - timedelta(days=2), settings, candidate.distance_km)
        assignment = change.notices[0].assignment
        if step == 1:
            offers.accept_offer(self.session, assignment, now - timedelta(days=1))
        elif step == 2:
            offers.decline_offer(self.session, assignment, self.random.choice(declines), now - timedelta(days=1),
                                 settings)
        elif step == 4:
            # One try only: the decline hands the session back to the coordinator, flagged.
            offers.decline_offer(self.session, assignment, self.random.choice(declines), now - timedelta(days=1),
                                 offers.OfferSettings(max_tries=1))

    # -- the agenda's weeks (app/agenda) ---------------------------------------------------------

    AGENDA_PAST = ("done", "done", "cancelled")
    AGENDA_AHEAD = ("confirmed", "pending", "cancelled", "unstaffed", "confirmed")

    def build_agenda_weeks(self) -> None:
        """Two weeks before this one and four from it, in the first département, each force: a session a school
        day, in the agenda's every state (given, cancelled; confirmed, offered, cancelled, left without a trainer),
        made through the real rules, every other one for the demo account of the force; and a few days of leave
        for that account next week."""
        from app.domain.timezones import to_utc
        from app.models import AvailabilityException, ExceptionKind

        code = self.scale.departements[0]
        monday = self.today - timedelta(days=self.today.weekday())
        for force in (Force.POLICE, Force.GENDARMERIE):
            trainers = [t for t in self.trainers if t.unit.departement_code == code and t.force is force]
            places = [e for e in self.establishments if e.departement_code == code and e.force is force
                      and any(user.password_hash for user in e.members)]
            coordinators = coordinators_covering(self.session, code, force)
            if len(trainers) < 2 or not places or not coordinators:
                continue
            days = self._open_days(places[0], monday - timedelta(days=14), monday + timedelta(days=27))
            ahead_days = [day for day in days if day >= self.today]
            # The first day ahead holds two sessions of the demo account, so that even a month's last day shows a
            # confirmed session and an offer; then a session a day.
            slots = [(day, (9, 14, 10)[n % 3]) for n, day in enumerate(days) if day < self.today]
            slots += [(day, hour) for day in ahead_days[:1] for hour in (14, 16)]
            slots += [(day, (9, 14, 10)[n % 3]) for n, day in enumerate(ahead_days[1:])]
            past = ahead = 0
            for number, (day, hour) in enumerate(slots):
                counter = past if day < self.today else ahead
                states = self.AGENDA_PAST if day < self.today else self.AGENDA_AHEAD
                state = states[counter % len(states)]
                demo_account = counter % 2 == 0 or (day >= self.today and counter < 2)
                trainer = trainers[0] if demo_account else trainers[1 + (counter // 2) % (len(trainers) - 1)]
                if day < self.today:
                    past += 1
                else:
                    ahead += 1
                establishment = places[number % len(places)]
                starts_at = to_utc(day, time(hour, 0), establishment.timezone)
                try:
                    with self.session.begin_nested():  # a refusal leaves nothing half-written
                        self._agenda_session(establishment, trainer, coordinators[0], starts_at, state)
                except Refused:
                    continue
            zone = self.departements[code].timezone
            leave = next((day for day in (monday + timedelta(days=8 + n) for n in range(14)) if day.weekday() < 4
                          and not any(begin.date() <= day + timedelta(days=1) and end.date() >= day
                                      for begin, end in self.booked[trainers[0].id])), monday + timedelta(days=10))
            trainers[0].exceptions.append(AvailabilityException(
                kind=ExceptionKind.UNAVAILABLE, starts_at=to_utc(leave, time(0), zone),
                ends_at=to_utc(leave + timedelta(days=2), time(0), zone), reason="Formation continue"))
        self.session.flush()

    def _agenda_session(self, establishment: Establishment, trainer: Trainer, coordinator: User,
                        starts_at: datetime, state: str) -> None:
        """One request of one group, accepted, its session in the agenda state asked for (given in the past with
        its report; cancelled with its trainer; confirmed, offered or declined to nobody ahead)."""
        from app.domain import lifecycle, offers
        from app.models import (
            Assignment,
            AssignmentStatus,
            ExceptionKind,
            InterventionRequest,
            InterventionStatus,
            RequestWindow,
        )

        requester = next(user for user in establishment.members if user.password_hash)
        ends_at = starts_at + timedelta(hours=1)
        if not all(ends_at + self.TRAVEL <= begin or end + self.TRAVEL <= starts_at
                   for begin, end in self.booked[trainer.id]) or any(
                exception.kind is ExceptionKind.UNAVAILABLE and exception.starts_at < ends_at
                and exception.ends_at > starts_at for exception in trainer.exceptions):
            return  # the trainer is elsewhere then, or on leave
        self.booked[trainer.id].append((starts_at, ends_at))
        now = self._moment(days_ago=0)
        created = starts_at - timedelta(days=30)
        request = InterventionRequest(
            establishment_id=establishment.id, created_by_id=requester.id,
            departement_code=establishment.departement_code, force=establishment.force, group_count=1,
            people_per_group=self.random.choice([24, 26, 28]), duration_minutes=60,
            room=self.random.choice(["Salle polyvalente", "CDI", "Salle de réunion"]),
            contact_name=requester.full_name, contact_phone=establishment.phone or "01 23 45 67 89",
            contact_email=requester.email, created_at=created, updated_at=created)
        request.audiences = [self.audiences[0]]
        request.topics = self.topics[:2]
        day = starts_at.date()
        request.windows = [RequestWindow(start_date=day, end_date=day, start_time=time(8, 0), end_time=time(17, 0))]
        self.session.add(request)
        lifecycle.record_creation(self.session, request, requester, created)
        lifecycle.submit(self.session, request, requester, created + timedelta(hours=1))
        lifecycle.accept(self.session, request, coordinator, created + timedelta(days=2))
        self.session.flush()
        intervention = request.interventions[0]
        decided = created + timedelta(days=3)
        if state in ("done", "cancelled") and starts_at < now:
            intervention.starts_at, intervention.ends_at = starts_at, ends_at
            intervention.assignments.append(Assignment(
                trainer_id=trainer.id, status=AssignmentStatus.ACCEPTED, offered_at=decided,
                answered_at=decided, accepted_at=decided, offered_by_id=coordinator.id))
            intervention.status, intervention.accepted_count = InterventionStatus.CONFIRMED, 1
            intervention.confirmed_at = decided
            self.session.flush()
            if state == "done":
                intervention.status = InterventionStatus.DONE
                self._reports(intervention, request, [trainer])
                lifecycle.recompute_request_status(self.session, request, ends_at + timedelta(days=1))
            else:
                lifecycle.cancel_intervention(self.session, intervention, requester,
                                              self.random.choice(CANCEL_REASONS), starts_at - timedelta(days=2))
            return
        settings = offers.OfferSettings()
        if state in ("confirmed", "cancelled"):
            offers.assign_directly(self.session, intervention, trainer, starts_at, ends_at, coordinator,
                                   now - timedelta(days=1))
            if state == "cancelled":
                lifecycle.cancel_intervention(self.session, intervention, requester,
                                              self.random.choice(CANCEL_REASONS), now - timedelta(hours=2))
            return
        # Offered yesterday; this morning for a session too close for that offer to be still open today.
        offered_at = now - timedelta(days=1) if starts_at - now > timedelta(days=2) else now
        change = offers.make_offer(self.session, intervention, trainer, starts_at, ends_at, coordinator, offered_at,
                                   settings)
        if state == "unstaffed":
            offers.decline_offer(self.session, change.notices[0].assignment, "Déjà en mission ce jour-là.",
                                 now - timedelta(hours=3), offers.OfferSettings(max_tries=1))

    def build_partly_cancelled_request(self) -> None:
        """A request of the first département (police, else gendarmerie) whose sessions were all confirmed, one
        of them then cancelled by the coordination, alone: the others go on."""
        from app.domain import lifecycle
        from app.models import Intervention, InterventionRequest, InterventionStatus, RequestStatus

        now = self._moment(days_ago=0)
        code = self.scale.departements[0]
        for force in (Force.POLICE, Force.GENDARMERIE):
            coordinators = coordinators_covering(self.session, code, force)
            candidates = self.session.scalars(
                select(InterventionRequest).where(InterventionRequest.departement_code == code,
                                                  InterventionRequest.force == force,
                                                  InterventionRequest.status == RequestStatus.CONFIRMED)
                .order_by(InterventionRequest.id)).all()
            chosen = next((request for request in candidates if len(request.interventions) >= 2 and all(
                session.status is InterventionStatus.CONFIRMED and session.starts_at > now + timedelta(days=2)
                for session in request.interventions)), None)
            if chosen is None or not coordinators:
                continue
            last: Intervention = max(chosen.interventions, key=lambda session: (session.starts_at, session.id))
            lifecycle.cancel_intervention(self.session, last, coordinators[0],
                                          "Cette classe part en voyage scolaire cette semaine-là.",
                                          now - timedelta(hours=5))
            break
        self.session.flush()

    # -- what the trainers' session pages and the coordination's reports show --------------------------------

    OFFER_NOTES = ("Classe de SEGPA : merci d'adapter le vocabulaire. Parking enseignants côté gymnase.",
                   "Deux élèves malentendants au premier rang ; l'infirmière scolaire sera présente.")

    def build_report_stories(self) -> None:
        """For each demo trainer: their pending offers carry the establishment's remarks; of their last three given
        sessions, the latest still waits for its report, the one before has a report the coordination corrected
        (with its history), the first was not held, with its reason."""
        from app.domain import reports
        from app.domain.lifecycle import recompute_request_status
        from app.models import Assignment, AssignmentStatus, Intervention, InterventionStatus, SessionReport

        now = self._moment(days_ago=0)
        for trainer in (t for t in self.trainers if t.user.email.endswith("@relais.demo")):
            offered = self.session.scalars(
                select(Intervention).join(Assignment, Assignment.intervention_id == Intervention.id)
                .where(Assignment.trainer_id == trainer.id, Assignment.status == AssignmentStatus.OFFERED)
                .order_by(Intervention.starts_at)).all()
            for number, intervention in enumerate(offered):
                intervention.request.notes = intervention.request.notes or self.OFFER_NOTES[number % 2]
            given = self.session.scalars(
                select(SessionReport).join(Intervention, Intervention.id == SessionReport.intervention_id)
                .where(SessionReport.trainer_id == trainer.id, Intervention.status == InterventionStatus.DONE,
                       Intervention.trainers_needed == 1)
                .order_by(Intervention.starts_at.desc()).limit(3)).all()
            if len(given) < 3:
                continue
            due, corrected, not_held = given
            waiting = due.intervention
            waiting.reports.remove(due)
            waiting.status, waiting.people_reached = InterventionStatus.CONFIRMED, None
            self.session.flush()
            recompute_request_status(self.session, waiting.request, now)
            coordinator = first_coordinator(self.session, corrected.intervention)
            if coordinator is not None:
                # The trainer counted the class only; the coordinator adds the two teachers present.
                reports.correct_report(self.session, corrected, reports.ReportData(
                    held=True, people_present=corrected.people_present + 2,
                    pupils=corrected.people_present, staff=2, topic_codes=tuple(t.code for t in corrected.topics),
                    remarks="Deux enseignants présents, oubliés dans le premier décompte (appel de la CPE)."),
                    coordinator, min(now, corrected.created_at + timedelta(days=5)))
            intervention = not_held.intervention
            for name in ("people_present", "pupils", "staff", "parents"):
                setattr(not_held, name, None)
            not_held.held, not_held.not_held_code = False, "audience_absent"
            not_held.not_held_reason = "La classe était en sortie scolaire ; l'établissement avait oublié de prévenir."
            not_held.topics = []
            intervention.status, intervention.people_reached = InterventionStatus.NOT_HELD, None
            self.session.flush()
            recompute_request_status(self.session, intervention.request, now)

    def build_units(self) -> None:
        for code in self.scale.departements:
            departement = self.departements[code]
            police_kind = UnitKind.DIPN if code in {"2A", "971", "972", "973", "974", "976"} else UnitKind.DDPN
            self.units[(code, Force.POLICE)] = Unit(
                force=Force.POLICE, kind=police_kind, name=f"{police_kind.value.upper()} {departement.name}",
                departement_code=code, commune_name=departement.prefecture,
                latitude=departement.latitude, longitude=departement.longitude)
            latitude, longitude = self._near(departement.latitude, departement.longitude, 10)
            self.units[(code, Force.GENDARMERIE)] = Unit(
                force=Force.GENDARMERIE, kind=UnitKind.MPF,
                name=f"Maison de protection des familles — groupement {departement.name}",
                departement_code=code, commune_name=departement.prefecture, latitude=latitude, longitude=longitude)
        self.session.add_all(self.units.values())

    def build_staff_accounts(self) -> None:
        admin = self._user(Role.ADMIN, "Claire Administratrice", "admin@relais.demo")
        self.result.accounts.append(DemoAccount("admin", admin.email, "administration nationale"))
        first = self.scale.departements[0]
        police = self._user(Role.COORDINATOR, "Karim Benali", f"coordination.police.{first}@relais.demo")
        police.scopes = [CoordinatorScope(departement_code=first, force=Force.POLICE)]
        gendarmerie = self._user(Role.COORDINATOR, "Sophie Marchand", f"coordination.gendarmerie.{first}@relais.demo")
        gendarmerie.scopes = [CoordinatorScope(departement_code=first, force=Force.GENDARMERIE)]
        self.result.accounts += [
            DemoAccount("coordinator", police.email, f"police, département {first}"),
            DemoAccount("coordinator", gendarmerie.email, f"gendarmerie, département {first}"),
        ]
        for code in self.scale.departements[1:]:
            coordinator = self._user(Role.COORDINATOR, self.fake.name())
            coordinator.scopes = [CoordinatorScope(departement_code=code, force=None)]
        # A coordinator invited but who has not activated the account yet.
        self.session.add(User(email="coordination.nouvelle@relais.demo", full_name="Nadia Invitée",
                              role=Role.COORDINATOR, scopes=[CoordinatorScope(departement_code=first)]))

    def build_coordination_offices(self) -> None:
        """The coordinations' functional mailboxes, where answers to invitations go: every demo territory has one but
        the gendarmerie of the second département, whose answers reach its coordinator until an admin sets it."""
        for code in self.scale.departements:
            name = self.departements[code].name
            for force, team in ((Force.POLICE, "pfad"), (Force.GENDARMERIE, "frad")):
                if code == self.scale.departements[1] and force is Force.GENDARMERIE:
                    continue
                label = ("Coordination des policiers formateurs anti-drogue" if force is Force.POLICE
                         else "Coordination des formateurs relais anti-drogue")
                self.session.add(CoordinationOffice(
                    departement_code=code, force=force, email=f"coordination-{team}-{code.lower()}@interieur.demo",
                    display_name=f"{label} — {name}", updated_at=self._moment(days_ago=200)))

    def build_establishments(self) -> None:
        kinds = [EstablishmentKind.COLLEGE] * 5 + [EstablishmentKind.LYCEE] * 3 + [
            EstablishmentKind.LYCEE_PRO, EstablishmentKind.HIGHER_EDUCATION, EstablishmentKind.COMPANY,
            EstablishmentKind.ADMINISTRATION, EstablishmentKind.ASSOCIATION]
        school_names = {
            EstablishmentKind.COLLEGE: ("Collège Jean-Moulin", "Collège Victor-Hugo", "Collège Louise-Michel",
                                        "Collège Jules-Ferry", "Collège Simone-Veil", "Collège Albert-Camus"),
            EstablishmentKind.LYCEE: ("Lycée Marie-Curie", "Lycée Jean-Jaurès", "Lycée Condorcet",
                                      "Lycée Pierre-Mendès-France"),
            EstablishmentKind.LYCEE_PRO: ("Lycée professionnel Gustave-Eiffel", "Lycée des métiers Jacques-Prévert"),
            EstablishmentKind.HIGHER_EDUCATION: ("Université — service de santé étudiante", "IUT",
                                                 "École d'ingénieurs"),
            EstablishmentKind.ADMINISTRATION: ("Centre communal d'action sociale",
                                               "Direction départementale des territoires"),
            EstablishmentKind.ASSOCIATION: ("Maison des jeunes et de la culture", "Association sportive"),
        }
        uai_serial = 0
        for code in self.scale.departements:
            communes = self.communes[code]
            for index in range(self.scale.establishments_per_departement):
                kind = kinds[index % len(kinds)]
                commune = communes[index % len(communes)]
                if kind is EstablishmentKind.COMPANY:
                    name = self.fake.company()
                else:
                    # The commune is shown next to the name wherever it matters: not in the name itself.
                    name = self.random.choice(school_names[kind])
                uai_serial += 1
                departement_digits = code.replace("2A", "620").replace("2B", "720")
                uai = make_uai(int(f"{departement_digits[:3]:0>3}{uai_serial % 10000:04d}")) if kind.uses_uai else None
                siret = (make_siret(10_000_000 + uai_serial * 37, self.random.randint(1, 999))
                         if kind.uses_siret else None)
                latitude, longitude = self._near(*self.commune_positions[commune.insee_code], 3)
                establishment = Establishment(
                    kind=kind, name=name, uai=uai, siret=siret,
                    address=self.fake.street_address(), postcode=commune.postcode, commune_name=commune.name,
                    commune_insee=commune.insee_code, departement_code=code, latitude=latitude,
                    longitude=longitude, force=commune.force, phone=self.fake.phone_number(),
                    # Some lycées have classes on Saturday mornings (no draw: the demo's other draws stay the same).
                    saturday_classes=kind is EstablishmentKind.LYCEE and uai_serial % 3 == 0,
                    confirmed_at=self._moment(days_ago=400))
                self.establishments.append(establishment)
        self.session.add_all(self.establishments)
        self.session.flush()
        first = self.establishments[0]
        requester = self._user(Role.REQUESTER, "Isabelle Lefèvre", "principal.college@relais.demo",
                               establishment=first, phone="04 78 00 00 01")
        self.result.accounts.append(DemoAccount("requester", requester.email, first.name))
        for establishment in self.establishments[1:]:
            if self.random.random() < 0.6:
                self._user(Role.REQUESTER, self.fake.name(), establishment=establishment)

    def build_trainers(self) -> None:
        matricule = 100000
        demo_trainer_emails = {(self.scale.departements[0], Force.POLICE): "formateur.pfad@relais.demo",
                               (self.scale.departements[0], Force.GENDARMERIE): "formatrice.frad@relais.demo"}
        for code in self.scale.departements:
            for force in (Force.POLICE, Force.GENDARMERIE):
                for index in range(self.scale.trainers_per_force_per_departement):
                    matricule += self.random.randint(1, 40)
                    email = demo_trainer_emails.get((code, force)) if index == 0 else None
                    # A colleague of the PFAD demo trainer reads English: their invitations, their CalDAV copies
                    # and their feed are written in English (#19), their neighbours' in French.
                    reads_english = (code, force, index) == (self.scale.departements[0], Force.POLICE, 1)
                    user = self._user(Role.TRAINER, self.fake.name(), email, language="en" if reads_english else "fr")
                    trained_days_ago = self.random.randint(200, 3000)
                    # A few lapsed or soon-lapsing certifications, so the warnings show.
                    refresher_days_ago = self.random.choice([60, 150, 200, 300, 400, 500, 690, 760])
                    if email:
                        refresher_days_ago = 60  # the demo accounts can receive offers
                    trainer = Trainer(
                        user=user, force=force, matricule=str(matricule), unit=self.units[(code, force)],
                        rank=self.random.choice(POLICE_RANKS if force is Force.POLICE else GENDARMERIE_RANKS),
                        initial_training_on=self.today - timedelta(days=trained_days_ago + 800),
                        last_refresher_on=self.today - timedelta(days=refresher_days_ago),
                        max_sessions_per_week=self.random.choice([2, 3, 4, 5]),
                        max_sessions_per_month=self.random.choice([6, 8, 10, 12]),
                        max_distance_km=self.random.choice([40, 60, 80, 120]),
                        accepts_pair_work=self.random.random() < 0.8)
                    trainer.departements = [self.departements[code]]
                    trainer.topics = [t for t in self.topics if email or self.random.random() < 0.9] or self.topics[:3]
                    if force is Force.POLICE:
                        trainer.topics = [t for t in trainer.topics if t.code not in {"harcelement",
                                                                                      "risques-numeriques"}]
                    trainer.audiences = ([a for a in self.audiences if email or self.random.random() < 0.92]
                                         or self.audiences)
                    self.session.add(trainer)
                    self.trainers.append(trainer)
                    if email:
                        self.result.accounts.append(DemoAccount("trainer", email, f"{force.value}, {code}"))


    def build_availability(self) -> None:
        """Weekly patterns, leave and one-off extra availability; some trainers keep the default pattern."""
        from datetime import time

        from app.domain.timezones import to_utc
        from app.models import AvailabilityException, AvailabilityPattern, ExceptionKind

        morning, afternoon = (time(8, 0), time(12, 0)), (time(13, 30), time(17, 30))
        long_day = (time(8, 30), time(17, 0))
        templates = [
            [(1, *morning), (3, *morning)],  # Tuesday and Thursday mornings
            [(day, *afternoon) for day in range(5)],
            [(0, *long_day), (2, *long_day), (4, *morning)],
            [(1, time(8, 30), time(12, 0)), (3, time(8, 30), time(12, 0)), (2, *afternoon)],
        ]
        reasons = ("Congés", "Mission de maintien de l'ordre", "Formation continue", "Permanence")
        for trainer in self.trainers:
            timezone_name = self.departements[trainer.unit.departement_code].timezone
            if self.random.random() < 0.7:  # the others keep the default: weekdays, school hours
                trainer.patterns = [AvailabilityPattern(weekday=weekday, start_time=start, end_time=end)
                                    for weekday, start, end in self.random.choice(templates)]
            if self.random.random() < 0.45:
                first = self.today + timedelta(days=self.random.randint(5, 60))
                last = first + timedelta(days=self.random.randint(2, 14))
                trainer.exceptions.append(AvailabilityException(
                    kind=ExceptionKind.UNAVAILABLE, starts_at=to_utc(first, time(0), timezone_name),
                    ends_at=to_utc(last, time(0), timezone_name), reason=self.random.choice(reasons)))
            if self.random.random() < 0.2:
                day = self.today + timedelta(days=self.random.randint(7, 45))
                day += timedelta(days=(5 - day.weekday()) % 7)  # a Saturday
                trainer.exceptions.append(AvailabilityException(
                    kind=ExceptionKind.EXTRA, starts_at=to_utc(day, time(9, 0), timezone_name),
                    ends_at=to_utc(day, time(12, 30), timezone_name), reason="Forum des associations"))

def first_coordinator(session: Session, intervention) -> User | None:
    found = coordinators_covering(session, intervention.departement_code, intervention.force)
    return found[0] if found else None


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is None


def build_demo_data(session: Session, seed: int, scale: str, today: date,
                    password_hash_method: str | None = None, year_sessions: int | None = None,
                    write_messages: MessageWriter | None = None, caldav_keys=None) -> DemoResult:
    """Fills an empty database; the caller commits. `year_sessions`: the scale's school year unless given;
    `write_messages(session, now)`: writes the periodic jobs' e-mails of the morning (app.jobs.write_messages),
    none without it. `caldav_keys`: the cipher of the connected calendars' passwords (a throwaway key without it).
    """
    with audit.acting(DEMO_AUTHOR):  # the demo's trail (#21): its own author, or the person acting in a step
        return DemoBuilder(session, seed, scale, today, password_hash_method, year_sessions, write_messages,
                           caldav_keys).build()


DEMO_AUTHOR = audit.Actor(None, audit.DEMO_NAME)


def _person(user) -> audit.Actor:
    return audit.Actor(user.id, user.full_name) if user is not None else DEMO_AUTHOR
