"""Who may serve a session: the hard rules, each with a name, so a coordinator sees why not.

Plain data in, plain answers out: the matching loads sessions and trainers once, then asks these
rules for every pair. Static rules (force, territory, qualifications, distance…) do not depend on
the time; timed rules (certification, limits, availability) are asked for one start time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext
from flask_babel import gettext as _

from app.domain.availability import TrainerAvailability, is_free, travel_minutes_for
from app.domain.certification import certification_valid_until, is_certified_on
from app.domain.geo import road_km
from app.domain.planning import TrainerLimits, month_of, week_of
from app.domain.timezones import to_local
from app.domain.vocabulary import SESSION_FILLED
from app.formatting import day_text


@dataclass(frozen=True)
class SessionNeed:
    intervention_id: int
    establishment_id: int
    departement_code: str
    force: str | None
    topic_codes: frozenset[str]
    audience_codes: frozenset[str]
    latitude: float
    longitude: float
    timezone: str
    trainers_needed: int = 1
    # The trainers already asked for this session, each with what their offer says of them (`asked_answer`:
    # offered, accepted, declined, expired, withdrawn, or filled by others): whoever turned it down is not proposed
    # again.
    asked: frozenset[tuple[int, str]] = field(default_factory=frozenset)


@dataclass(frozen=True)
class TrainerProfile:
    trainer_id: int
    active: bool
    force: str
    departement_codes: frozenset[str]
    topic_codes: frozenset[str]
    audience_codes: frozenset[str]
    certified_since: date
    max_distance_km: int
    accepts_pair_work: bool
    latitude: float
    longitude: float

    def distance_km(self, need: SessionNeed) -> float:
        return road_km(self.latitude, self.longitude, need.latitude, need.longitude)


@dataclass(frozen=True)
class Exclusion:
    rule: str  # the rule's name, stable, for filters and tests
    reason: str  # for the coordinator, in the language of the moment
    codes: tuple[str, ...] = ()  # what the rule is about (the topics or audiences missing), for the page's labels


# A rule answers None (passed), its reason, or an Exclusion when it says more (codes, another name). It words its
# reason with the function it is given as `_` (so that the catalogue's extraction finds the texts): gettext, or,
# when nobody reads the reasons (the planner asks millions of pairs), `_unworded`, which only says that it failed.
Wording = Callable[..., str]
StaticRule = Callable[[SessionNeed, TrainerProfile, Wording], str | Exclusion | None]


def _unworded(message: str, **_parameters) -> str:
    return message


def _active(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> str | None:
    return None if trainer.active else _("Formateur inactif (mutation, congé long…).")


def _force(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> str | None:
    if need.force is None:
        return _("La force compétente n'est pas encore déterminée pour ce lieu.")
    if trainer.force != need.force:
        return _("Le lieu relève de la police nationale.") if need.force == "police" else \
            _("Le lieu relève de la gendarmerie nationale.")
    return None


def _territory(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> str | None:
    if need.departement_code in trainer.departement_codes:
        return None
    return _("N'intervient pas dans le département %(code)s.", code=need.departement_code)


def _topics(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> Exclusion | None:
    missing = tuple(sorted(need.topic_codes - trainer.topic_codes))
    return Exclusion("themes", _("Non habilité(e) pour : %(topics)s.", topics=", ".join(missing)), missing) \
        if missing else None


def _audiences(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> Exclusion | None:
    missing = tuple(sorted(need.audience_codes - trainer.audience_codes))
    return Exclusion("public", _("Non habilité(e) pour le public : %(audiences)s.", audiences=", ".join(missing)),
                     missing) if missing else None


def _pair(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> str | None:
    if need.trainers_needed > 1 and not trainer.accepts_pair_work:
        return _("Ne travaille pas en binôme.")
    return None


def _distance(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> str | None:
    distance = trainer.distance_km(need)
    if distance > trainer.max_distance_km:
        return _("Trop loin : %(distance)s km pour %(limit)s km au plus.", distance=f"{distance:.0f}",
                 limit=trainer.max_distance_km)
    return None


# The answer of an offer that closed because others filled the session first: the trainer turned nothing down.
FILLED_BY_OTHERS = "filled"


def asked_answer(status: str, decline_reason: str | None) -> str:
    """What an offer for this session says of its trainer: its status, or `FILLED_BY_OTHERS` for an offer withdrawn
    because the session was filled (`SESSION_FILLED`). Such a trainer may be asked again when the session needs
    someone again (the one who accepted fell ill): they never declined it."""
    if status == "withdrawn" and decline_reason == SESSION_FILLED:
        return FILLED_BY_OTHERS
    return status


# What each answer to an offer for this session says of the trainer, the live ones first (a trainer withdrawn
# then asked again is on the session). `FILLED_BY_OTHERS` says nothing.
ASKED_REASONS = {
    "accepted": ("deja-sollicite", "A accepté cette intervention."),
    "offered": ("deja-sollicite", "Proposition en cours pour cette intervention."),
    "declined": ("deja-decline", "A décliné cette intervention."),
    "expired": ("deja-decline", "A laissé expirer la proposition pour cette intervention."),
    "withdrawn": ("deja-decline", "A été retiré(e) de cette intervention."),
}


def _not_asked(need: SessionNeed, trainer: TrainerProfile, _: Wording) -> Exclusion | None:
    answers = {status for trainer_id, status in need.asked if trainer_id == trainer.trainer_id}
    for status, (rule, reason) in ASKED_REASONS.items():
        if status in answers:
            return Exclusion(rule, reason, (status,))
    return None


STATIC_RULES: tuple[tuple[str, StaticRule], ...] = (
    ("actif", _active),
    ("force", _force),
    ("departement", _territory),
    ("themes", _topics),
    ("public", _audiences),
    ("binome", _pair),
    ("distance", _distance),
    ("deja-sollicite", _not_asked),
)


def static_exclusions(need: SessionNeed, trainer: TrainerProfile, explain: bool = True) -> list[Exclusion]:
    """Every time-independent rule the trainer fails for this session (empty: may serve it). Without `explain`,
    the reasons are left unworded (the rules' names and codes are there): a quarter of the planner's loading was
    translating reasons nobody read."""
    wording = gettext if explain else _unworded
    return [reason if isinstance(reason, Exclusion) else Exclusion(name, reason)
            for name, rule in STATIC_RULES if (reason := rule(need, trainer, wording))]


def timed_exclusions(need: SessionNeed, trainer: TrainerProfile, starts_at: datetime, ends_at: datetime,
                     workload: TrainerLimits, availability: TrainerAvailability, explain: bool = True
                     ) -> list[Exclusion]:
    """The rules that depend on when: certification, weekly and monthly limits, availability."""
    found = day_exclusions(trainer, to_local(starts_at, need.timezone).date(), workload)
    unavailable = availability_exclusion(need, starts_at, ends_at, availability,
                                         travel_minutes_for(trainer.distance_km(need)), explain)
    return found + [unavailable] if unavailable else found


def day_exclusions(trainer: TrainerProfile, day: date, workload: TrainerLimits) -> list[Exclusion]:
    """The timed rules that depend on the (local) day only: the same for every start of that day."""
    found: list[Exclusion] = []
    if not is_certified_on(trainer.certified_since, day):
        until = certification_valid_until(trainer.certified_since)
        found.append(Exclusion("habilitation", _("Habilitation expirée depuis le %(day)s.", day=day_text(until))))
    if workload.week_remaining(week_of(day)) <= 0:
        found.append(Exclusion("limite-hebdomadaire", _("Limite atteinte : %(count)s intervention(s) par semaine.",
                                                        count=workload.weekly_limit)))
    if workload.month_remaining(month_of(day)) <= 0:
        found.append(Exclusion("limite-mensuelle", _("Limite atteinte : %(count)s intervention(s) par mois.",
                                                     count=workload.monthly_limit)))
    return found


def availability_exclusion(need: SessionNeed, starts_at: datetime, ends_at: datetime,
                           availability: TrainerAvailability, travel_minutes: int, explain: bool = True
                           ) -> Exclusion | None:
    """The availability rule for one start (`travel_minutes`: the trainer's, to this place, each way)."""
    answer = is_free(availability, starts_at, ends_at, timezone_name=need.timezone,
                     departement_code=need.departement_code, travel_minutes=travel_minutes,
                     place_key=need.establishment_id, ignore_intervention_ids=(need.intervention_id,),
                     explain=explain)
    if answer:
        return None
    # Without `explain` nobody reads the reason: the planner tests millions of starts, not translating saves time.
    return Exclusion("disponibilite", answer.reason or (_("Indisponible.") if explain else ""))
