"""How long Relais keeps personal data, and what it does when a period is over (RGPD art. 5-1-e, issue #21).

The periods are data (`RetentionSetting`, one row per kind, defaults in docs/rgpd.md), changed by the national
administration. `flask tick` applies them through the jobs of app/jobs.py, which call the functions here:

- the contacts of a request (name, telephone, e-mail of the on-site contact, its free-text notes) and the comments
  of its sessions' feedback are anonymised N years after its last session;
- an account unused for N months is warned by e-mail, then deactivated once the warning period is over if it was
  still not used (signing in again cancels it);
- a trainer who left (`Trainer.departed_on`) has their record exported to a JSON file of the archive folder, then
  anonymised, N months after their départ;
- the audit trail's own purge reads `period(session, "audit_trail")`.

Every change is a conditional UPDATE (or an INSERT that skips a duplicate): two `tick` running at once do each
thing once. Nothing counted by the statistics is removed: the sessions, their dates, places, force and the people
reached stay, only the words that name or describe a person go.
"""

from __future__ import annotations

import json
import os
import tempfile
from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.domain.vocabulary import N_
from app.models import (
    Assignment,
    AvailabilityException,
    AvailabilityPattern,
    CalendarConnection,
    CalendarFeed,
    Feedback,
    InactivityWarning,
    Intervention,
    InterventionRequest,
    InterventionStatus,
    LoginSession,
    RequestStatus,
    RetentionSetting,
    Role,
    Trainer,
    User,
)
from app.models.base import insert_for
from app.models.retention import RETENTION_DEFAULTS

# What an anonymised request's contact says instead of a name (stored in French, shown through stored_text).
ANONYMISED_CONTACT = N_("Contact anonymisé")
ANONYMISED_TRAINER = N_("Formateur parti n° %(number)s")
# Where anonymised accounts' addresses point: a reserved domain that never receives mail (RFC 2606).
ANONYMOUS_DOMAIN = "anonyme.invalid"
# The kinds, in the order the pages list them, and the bounds an administrator may choose within.
KINDS = tuple(RETENTION_DEFAULTS)
LIMITS = {"years": (1, 30), "months": (1, 360), "days": (1, 365)}


@dataclass(frozen=True)
class Period:
    value: int
    unit: str  # years, months, days

    def before(self, moment: datetime) -> datetime:
        """The moment this period before `moment`: data older than it is due."""
        if self.unit == "days":
            return moment - timedelta(days=self.value)
        months = self.value * (12 if self.unit == "years" else 1)
        year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
        day = min(moment.day, monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)

    def after(self, moment: datetime) -> datetime:
        """The moment this period after `moment` (the day a datum will be due)."""
        if self.unit == "days":
            return moment + timedelta(days=self.value)
        months = self.value * (12 if self.unit == "years" else 1)
        year, month = divmod(moment.year * 12 + moment.month - 1 + months, 12)
        day = min(moment.day, monthrange(year, month + 1)[1])
        return moment.replace(year=year, month=month + 1, day=day)


def period(session: Session, kind: str) -> Period:
    """The retention period of one kind of data (its default of docs/rgpd.md when the row is missing)."""
    if kind not in RETENTION_DEFAULTS:
        raise ValueError(f"unknown retention kind: {kind}")
    row = session.get(RetentionSetting, kind)
    value, unit = (row.value, row.unit) if row is not None else RETENTION_DEFAULTS[kind]
    return Period(value, unit)


def all_periods(session: Session) -> dict[str, Period]:
    """Every kind's period, in one statement: what the pages show."""
    rows = {row.kind: Period(row.value, row.unit) for row in session.scalars(select(RetentionSetting))}
    return {kind: rows.get(kind, Period(*RETENTION_DEFAULTS[kind])) for kind in KINDS}


def save_periods(session: Session, values: dict[str, int], actor: User | None, now: datetime) -> int:
    """Sets the periods (each in its kind's unit, within LIMITS); returns how many changed."""
    changed = 0
    for kind, value in values.items():
        unit = RETENTION_DEFAULTS[kind][1]
        low, high = LIMITS[unit]
        if not low <= value <= high:
            raise ValueError(f"{kind}: {value} outside {low}..{high}")
        row = session.get(RetentionSetting, kind)
        if row is None:
            row = RetentionSetting(kind=kind, value=value, unit=unit)
            session.add(row)
        elif row.value == value and row.unit == unit:
            continue
        row.value, row.unit = value, unit
        row.updated_at, row.updated_by_id = now, actor.id if actor is not None else None
        changed += 1
    session.flush()
    return changed


# -- requests' contacts and feedback comments ---------------------------------------------------------------------


def _last_session_before(cutoff: datetime):
    """The requests whose last session (or, without any, whose last change) is older than the cutoff."""
    sessions = aliased(Intervention)
    last = (select(func.max(func.coalesce(sessions.ends_at, sessions.starts_at)))
            .where(sessions.request_id == InterventionRequest.id).correlate(InterventionRequest).scalar_subquery())
    return func.coalesce(last, InterventionRequest.updated_at) < cutoff


def anonymise_request_contacts(session: Session, now: datetime) -> int:
    """The on-site contact (name, telephone, e-mail) and the free-text notes of the requests whose last session is
    older than the period; returns how many requests were anonymised now (0 the second time)."""
    cutoff = period(session, "request_contacts").before(now)
    result = session.execute(
        update(InterventionRequest)
        .where(_last_session_before(cutoff), InterventionRequest.contact_name != ANONYMISED_CONTACT)
        .values(contact_name=ANONYMISED_CONTACT, contact_phone="", contact_email=None, notes=None,
                updated_at=InterventionRequest.updated_at)  # anonymising is no change of the request
        .execution_options(synchronize_session=False))
    return result.rowcount


def anonymise_feedback_comments(session: Session, now: datetime) -> int:
    """The comments of the feedback on sessions of requests whose last session is older than the period (the mark
    stays: the statistics average it); returns how many comments were removed now."""
    cutoff = period(session, "feedback_comments").before(now)
    old = (select(Intervention.id).join(InterventionRequest, InterventionRequest.id == Intervention.request_id)
           .where(_last_session_before(cutoff)))
    result = session.execute(
        update(Feedback).where(Feedback.comment.is_not(None), Feedback.intervention_id.in_(old))
        .values(comment=None).execution_options(synchronize_session=False))
    return result.rowcount


# -- accounts left unused -----------------------------------------------------------------------------------------


def _used_since(moment) -> object:
    """SQL: the account was used after `moment` (a log-in, or a request of one of its log-in sessions)."""
    return or_(func.coalesce(User.last_login_at, User.activated_at, User.created_at) > moment,
               exists().where(LoginSession.user_id == User.id, LoginSession.last_seen_at > moment))


def _watched_accounts():
    """Accounts the rule applies to: activated and active; not the national administration's (an automatic
    deactivation must not lock the service out: docs/rgpd.md), not the anonymised ones."""
    return and_(User.active, User.activated_at.is_not(None), User.role != Role.ADMIN,
                ~User.email.like(f"%@{ANONYMOUS_DOMAIN}"))


@dataclass(frozen=True)
class UnusedAccount:
    user: User
    last_activity: datetime
    deactivation_on: datetime


def accounts_to_warn(session: Session, now: datetime) -> list[UnusedAccount]:
    """Accounts unused for the period and not warned yet for this period of inactivity, with the moment they were
    last used and the day they will be deactivated; in two statements."""
    cutoff = period(session, "unused_accounts").before(now)
    warning = period(session, "unused_accounts_warning")
    users = list(session.scalars(select(User).where(_watched_accounts(), ~_used_since(cutoff)).order_by(User.id)))
    if not users:
        return []
    seen = dict(session.execute(select(LoginSession.user_id, func.max(LoginSession.last_seen_at))
                                .where(LoginSession.user_id.in_([u.id for u in users]))
                                .group_by(LoginSession.user_id)).all())
    warned = set(session.execute(select(InactivityWarning.user_id, InactivityWarning.last_activity)
                                 .where(InactivityWarning.user_id.in_([u.id for u in users]))).all())
    due = []
    for user in users:
        moments = [m for m in (user.last_login_at, user.activated_at, user.created_at, seen.get(user.id)) if m]
        last = max(moments)
        if (user.id, last) not in warned:
            due.append(UnusedAccount(user, last, warning.after(now)))
    return due


def record_warning(session: Session, account: UnusedAccount, now: datetime) -> bool:
    """Notes that the account was warned for this period of inactivity; False when another run already did (the
    INSERT skips the duplicate)."""
    inserted = session.execute(
        insert_for(session)(InactivityWarning)
        .values(user_id=account.user.id, last_activity=account.last_activity, warned_at=now)
        .on_conflict_do_nothing(index_elements=[InactivityWarning.user_id, InactivityWarning.last_activity])
        .returning(InactivityWarning.id)).scalar()
    return inserted is not None


def deactivate_unused_accounts(session: Session, now: datetime) -> int:
    """Deactivates the accounts warned at least the warning period ago and not used since the moment they had been
    last used; returns how many. An account used again meanwhile keeps going (its warning stays, unused)."""
    warned_before = period(session, "unused_accounts_warning").before(now)
    due = session.execute(select(InactivityWarning.id, InactivityWarning.user_id, InactivityWarning.last_activity)
                          .where(InactivityWarning.deactivated_at.is_(None),
                                 InactivityWarning.warned_at <= warned_before)
                          .order_by(InactivityWarning.id)).all()
    done = 0
    for warning_id, user_id, last_activity in due:
        result = session.execute(update(User).where(User.id == user_id, _watched_accounts(),
                                                    ~_used_since(last_activity))
                                 .values(active=False).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            session.execute(update(InactivityWarning).where(InactivityWarning.id == warning_id,
                                                            InactivityWarning.deactivated_at.is_(None))
                            .values(deactivated_at=now))
            done += 1
    return done


# -- trainers who left --------------------------------------------------------------------------------------------


def departed_trainers_due(session: Session, now: datetime) -> list[int]:
    """The trainers who left more than the period ago and are not anonymised yet (ids, in order)."""
    cutoff = period(session, "departed_trainers").before(now).date()
    return list(session.scalars(select(Trainer.id).where(Trainer.departed_on.is_not(None),
                                                         Trainer.departed_on <= cutoff,
                                                         Trainer.anonymised_at.is_(None)).order_by(Trainer.id)))


def trainer_record(session: Session, trainer: Trainer) -> dict:
    """Everything Relais holds on a trainer, as the archive keeps it (plain JSON values)."""
    sessions = session.execute(
        select(Intervention.id, Intervention.starts_at, Intervention.departement_code, Intervention.status,
               Assignment.status).join(Assignment, Assignment.intervention_id == Intervention.id)
        .where(Assignment.trainer_id == trainer.id).order_by(Intervention.starts_at, Intervention.id)).all()
    user = trainer.user
    return {
        "formateur": {
            "id": trainer.id, "nom": user.full_name, "adresse_electronique": user.email, "telephone": user.phone,
            "force": str(trainer.force), "grade": trainer.rank, "matricule": trainer.matricule,
            "unite": trainer.unit.name, "departements": [d.code for d in trainer.departements],
            "formation_initiale": trainer.initial_training_on.isoformat(),
            "dernier_recyclage": trainer.last_refresher_on.isoformat() if trainer.last_refresher_on else None,
            "themes": [t.code for t in trainer.topics], "publics": [a.code for a in trainer.audiences],
            "langues": trainer.languages, "motif_inactivite": trainer.inactive_reason,
            "depart": trainer.departed_on.isoformat() if trainer.departed_on else None,
            "cree_le": trainer.created_at.isoformat(),
        },
        "interventions": [{"id": id_, "debut": starts.isoformat() if starts else None, "departement": code,
                           "statut": str(status), "affectation": str(assignment)}
                          for id_, starts, code, status, assignment in sessions],
    }


def write_archive(folder: Path, name: str, record: dict) -> Path:
    """Writes the record as `name` in the folder, whole or not at all (a temporary file renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(record, stream, ensure_ascii=False, indent=2)
    os.replace(temporary, path)
    return path


def archive_and_anonymise_trainer(session: Session, trainer_id: int, folder: Path, now: datetime) -> Path | None:
    """Exports the trainer's record to the archive folder, then anonymises it: their account's name, address,
    telephone and password, their matricule, availability and calendar links. Their sessions, reports, force, unit
    and départements stay (the statistics count them). None when another run did it first or it is not due."""
    claimed = session.execute(update(Trainer).where(Trainer.id == trainer_id, Trainer.anonymised_at.is_(None),
                                                    Trainer.departed_on.is_not(None))
                              .values(anonymised_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None
    trainer = session.get(Trainer, trainer_id)
    session.refresh(trainer)
    path = write_archive(folder, f"formateur-{trainer.id}-{trainer.departed_on.isoformat()}.json",
                         {"archive_le": now.isoformat(), **trainer_record(session, trainer)})
    user_id = trainer.user_id
    session.execute(update(User).where(User.id == user_id).values(
        full_name=ANONYMISED_TRAINER % {"number": trainer.id}, email=f"formateur-{trainer.id}@{ANONYMOUS_DOMAIN}",
        phone=None, password_hash=None, active=False).execution_options(synchronize_session=False))
    session.execute(update(Trainer).where(Trainer.id == trainer_id).values(
        matricule=f"ANONYME-{trainer.id}", inactive_reason=None, active=False)
        .execution_options(synchronize_session=False))
    for table, column in ((AvailabilityPattern, AvailabilityPattern.trainer_id),
                          (AvailabilityException, AvailabilityException.trainer_id)):
        session.execute(delete(table).where(column == trainer_id))
    for table, column in ((LoginSession, LoginSession.user_id), (CalendarConnection, CalendarConnection.user_id),
                          (CalendarFeed, CalendarFeed.user_id)):
        session.execute(delete(table).where(column == user_id))
    session.expire_all()
    return path


def mark_departed(session: Session, trainer: Trainer, on: date) -> None:
    """The trainer left the network on that day: inactive from then on, anonymised after the period."""
    trainer.departed_on = on
    trainer.active = False
    trainer.inactive_reason = trainer.inactive_reason or N_("Départ du réseau")
    session.flush()


# -- the demo --------------------------------------------------------------------------------------------------------

DEMO_OLD_CONTACTS = (("Jean Dumas", "04 72 10 20 30", "Salle polyvalente, demander M. Dumas à la loge."),
                     ("Sophie Garnier", "04 78 55 66 77", "Prévoir un vidéoprojecteur ; Mme Garnier accueille."))


def build_demo_history(session: Session, establishments: list, now: datetime) -> None:
    """The demo's traces of the retention periods: two sessions given four years ago, whose requests' contacts and
    feedback comments are already anonymised (the statistics still count them), and an account unused for
    25 months, warned a few days ago."""
    # A Tuesday of early December four years back: a school day everywhere (after the Toussaint, before Christmas,
    # overseas included).
    day = date(now.year - 4, 12, 6)
    day += timedelta(days=(1 - day.weekday()) % 7)
    given_at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=now.tzinfo)
    with_members = [establishment for establishment in establishments if establishment.members]
    for establishment, (name, phone, notes) in zip(with_members[:2], DEMO_OLD_CONTACTS, strict=False):
        author = establishment.members[0]
        request = InterventionRequest(
            establishment_id=establishment.id, created_by_id=author.id, status=RequestStatus.DONE,
            departement_code=establishment.departement_code, force=establishment.force, group_count=1,
            contact_name=name, contact_phone=phone, contact_email=None, notes=notes,
            created_at=given_at - timedelta(days=60), submitted_at=given_at - timedelta(days=60),
            accepted_at=given_at - timedelta(days=50), updated_at=given_at)
        intervention = Intervention(request=request, group_label="Classes de 4e", status=InterventionStatus.DONE,
                                    departement_code=establishment.departement_code, force=establishment.force,
                                    starts_at=given_at, ends_at=given_at + timedelta(hours=1), people_reached=26,
                                    confirmed_at=given_at - timedelta(days=20),
                                    created_at=given_at - timedelta(days=50))
        session.add_all([request, intervention])
        session.flush()
        session.add(Feedback(intervention_id=intervention.id, author_id=author.id, satisfaction=5,
                             comment=f"Merci à {name.split()[0]} pour l'organisation.",
                             created_at=given_at + timedelta(days=2), updated_at=given_at + timedelta(days=2)))
    session.flush()
    anonymise_request_contacts(session, now)
    anonymise_feedback_comments(session, now)
    # One establishment's member who has not used Relais for 25 months: warned, to be deactivated in 25 days.
    members = [m for e in with_members[2:] for m in e.members  # not an account the demo's visitors log in with
               if m.activated_at is not None and not m.email.endswith("@relais.demo")]
    if members:
        person = members[-1]
        person.activated_at = now - timedelta(days=800)
        person.last_login_at = now - timedelta(days=25 * 31)
        session.add(InactivityWarning(user_id=person.id, last_activity=person.last_login_at,
                                      warned_at=now - timedelta(days=5)))
    session.flush()
