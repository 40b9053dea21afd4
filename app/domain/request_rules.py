"""The checks a request for sessions must pass, with the French messages shown next to the field.

Errors block saving; warnings are shown but never block (the coordinator decides). Kept free of
Flask requests so that the form, an import or an API can all apply the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from flask_babel import lazy_gettext as _l

from app.domain.holidays import WindowCheck
from app.domain.vocabulary import topic_label
from app.formatting import clock_text, day_text

EARLIEST_START = time(7, 30)
LATEST_END = time(19, 0)
MAX_GROUPS = 30
MAX_PEOPLE_PER_GROUP = 300
MIN_PEOPLE_PER_GROUP = 3
USUAL_CLASS_SIZE = 35
MAX_WINDOW_DAYS = 92
MAX_DAYS_AHEAD = 548  # about 18 months: further is a typing mistake (2207 for 2027)
DURATIONS = (30, 45, 60, 90, 120, 180)


@dataclass(frozen=True)
class WindowInput:
    start_date: date | None
    end_date: date | None
    start_time: time | None
    end_time: time | None


@dataclass(frozen=True)
class Place:
    """What the rules need to know about where the sessions take place."""

    departement_code: str
    holiday_zone: str | None
    is_school: bool
    saturday_classes: bool = False


@dataclass(frozen=True)
class TopicRule:
    code: str
    label: str
    caution_audiences: frozenset[str]


@dataclass(frozen=True)
class AudienceInfo:
    code: str
    label: str
    category: str


@dataclass
class RequestInput:
    audience_codes: Sequence[str]
    topic_codes: Sequence[str]
    group_count: int | None
    people_per_group: int | None
    duration_minutes: int | None
    windows: Sequence[WindowInput]


@dataclass
class Findings:
    """Errors by field name ("windows-0-start_date" for a window's field), and general warnings."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def error(self, name: str, message) -> None:
        self.errors.setdefault(name, []).append(message)

    def warn(self, message) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def topic_rules(topics: Iterable) -> list[TopicRule]:
    """Reference topics as rules; caution audiences are stored as codes separated by ; or ,."""
    rules = []
    for topic in topics:
        codes = topic.caution_audiences.replace(",", ";") if topic.caution_audiences else ""
        rules.append(TopicRule(topic.code, topic_label(topic),
                               frozenset(code.strip() for code in codes.split(";") if code.strip())))
    return rules


def _day(value: date) -> str:
    return day_text(value)  # « 1er mars 2027 », "March 1, 2027": the messages are read in the page's language


def check_request(data: RequestInput, place: Place, topics: Sequence[TopicRule],
                  audiences: Sequence[AudienceInfo], today: date, min_notice_days: int) -> Findings:
    """All the rules of a request; `today` is the local date at the place."""
    findings = Findings()
    _check_sizes(data, audiences, findings)
    _check_topics(data, topics, audiences, findings)
    real_windows = [(index, window) for index, window in enumerate(data.windows)
                    if any(value is not None for value in (window.start_date, window.end_date,
                                                           window.start_time, window.end_time))]
    if not real_windows:
        findings.error("windows-0-start_date", _l("Indiquez au moins une période de disponibilité."))
    for index, window in real_windows:
        _check_window(index, window, data.duration_minutes, place, today, min_notice_days, findings)
    return findings


def _check_sizes(data: RequestInput, audiences: Sequence[AudienceInfo], findings: Findings) -> None:
    if not data.audience_codes:
        findings.error("audiences", _l("Choisissez au moins un public."))
    if data.group_count is None:
        findings.error("group_count", _l("Indiquez le nombre de groupes."))
    elif not 1 <= data.group_count <= MAX_GROUPS:
        findings.error("group_count", _l("Entre 1 et %(max)s groupes par demande : au-delà, faites plusieurs "
                                         "demandes.", max=MAX_GROUPS))
    if data.people_per_group is None:
        findings.error("people_per_group", _l("Indiquez le nombre de personnes par groupe."))
    elif not MIN_PEOPLE_PER_GROUP <= data.people_per_group <= MAX_PEOPLE_PER_GROUP:
        findings.error("people_per_group", _l("Un groupe compte entre %(min)s et %(max)s personnes.",
                                              min=MIN_PEOPLE_PER_GROUP, max=MAX_PEOPLE_PER_GROUP))
    else:
        by_code = {audience.code: audience for audience in audiences}
        pupils = any(by_code.get(code) and by_code[code].category == "pupils" for code in data.audience_codes)
        if pupils and data.people_per_group > USUAL_CLASS_SIZE:
            findings.warn(_l("Plus de %(size)s élèves par groupe : une intervention se tient d'ordinaire devant "
                             "une classe. Vérifiez le nombre de groupes.", size=USUAL_CLASS_SIZE))
    if data.duration_minutes is None:
        findings.error("duration_minutes", _l("Indiquez la durée d'une intervention."))
    elif data.duration_minutes not in DURATIONS:
        findings.error("duration_minutes", _l("Durée non prévue."))
    if not data.topic_codes:
        findings.error("topics", _l("Choisissez au moins un thème."))


def _check_topics(data: RequestInput, topics: Sequence[TopicRule], audiences: Sequence[AudienceInfo],
                  findings: Findings) -> None:
    labels = {audience.code: audience.label for audience in audiences}
    chosen = set(data.audience_codes)
    for topic in topics:
        if topic.code not in data.topic_codes:
            continue
        concerned = sorted(chosen & topic.caution_audiences, key=list(labels).index)
        if concerned:
            findings.warn(_l("Le thème « %(topic)s » est rarement abordé avec ce public (%(audiences)s) : "
                             "précisez vos attentes dans les remarques, le formateur adaptera son propos.",
                             topic=topic.label, audiences=", ".join(labels[code] for code in concerned)))


def _check_window(index: int, window: WindowInput, duration: int | None, place: Place, today: date,
                  min_notice_days: int, findings: Findings) -> None:
    prefix = f"windows-{index}-"
    start, end = window.start_date, window.end_date
    if start is None:
        findings.error(prefix + "start_date", _l("Indiquez la date de début."))
    if end is None:
        findings.error(prefix + "end_date", _l("Indiquez la date de fin."))
    if window.start_time is None:
        findings.error(prefix + "start_time", _l("Indiquez l'heure de début."))
    if window.end_time is None:
        findings.error(prefix + "end_time", _l("Indiquez l'heure de fin."))
    if window.start_time and window.start_time < EARLIEST_START:
        findings.error(prefix + "start_time", _l("Les interventions ont lieu entre %(start)s et %(end)s : "
                                                 "commencez à %(start)s au plus tôt.", start=clock_text(EARLIEST_START),
                                                 end=clock_text(LATEST_END)))
    if window.end_time and window.end_time > LATEST_END:
        findings.error(prefix + "end_time", _l("Les interventions ont lieu entre %(start)s et %(end)s : "
                                               "terminez à %(end)s au plus tard.", start=clock_text(EARLIEST_START),
                                               end=clock_text(LATEST_END)))
    if window.start_time and window.end_time:
        if window.end_time <= window.start_time:
            findings.error(prefix + "end_time", _l("L'heure de fin doit suivre l'heure de début."))
        elif duration:
            minutes = (window.end_time.hour * 60 + window.end_time.minute
                       - window.start_time.hour * 60 - window.start_time.minute)
            if minutes < duration:
                findings.error(prefix + "end_time", _l("Ce créneau (%(minutes)s min) est plus court qu'une "
                                                       "intervention (%(duration)s min).",
                                                       minutes=minutes, duration=duration))
    if start is None or end is None:
        return
    earliest = today + timedelta(days=min_notice_days)
    if start < today:
        findings.error(prefix + "start_date", _l("Cette date est passée."))
        return
    if start < earliest:
        findings.error(prefix + "start_date", _l("Prévoyez un délai d'au moins %(days)s jours : première date "
                                                 "possible le %(day)s.", days=min_notice_days, day=_day(earliest)))
        return
    if end < start:
        findings.error(prefix + "end_date", _l("La date de fin doit suivre la date de début."))
        return
    if start > today + timedelta(days=MAX_DAYS_AHEAD):
        findings.error(prefix + "start_date", _l("Date trop lointaine : les demandes portent sur les 18 "
                                                 "prochains mois."))
        return
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        findings.error(prefix + "end_date", _l("Une période couvre au plus %(days)s jours : découpez-la en "
                                               "plusieurs périodes.", days=MAX_WINDOW_DAYS))
        return
    _check_window_days(prefix, start, end, place, findings)


def is_working_weekday(day: date, saturday_classes: bool) -> bool:
    """Monday to Friday; Saturday where the establishment has classes (or activity) then; never Sunday. The
    rule of the form (`weekend_reason`) and of the ranking's start times (`ranking.candidate_starts`)."""
    return day.weekday() < 5 or (day.weekday() == 5 and saturday_classes)


def weekend_reason(day: date, place: Place):
    """Why no session can be held on this day of the week at the place (None on a working day)."""
    if is_working_weekday(day, place.saturday_classes):
        return None
    if day.weekday() == 6:
        return _l("Le %(day)s est un dimanche : pas d'intervention le dimanche.", day=_day(day))
    if place.is_school:
        return _l("Le %(day)s est un samedi, et l'établissement n'a pas cours le samedi (à indiquer dans la "
                  "fiche de l'établissement si c'est le cas).", day=_day(day))
    return _l("Le %(day)s est un samedi, et l'établissement ne reçoit pas le samedi (à indiquer dans la fiche "
              "de l'établissement si c'est le cas).", day=_day(day))


def _check_window_days(prefix: str, start: date, end: date, place: Place, findings: Findings) -> None:
    checker = WindowCheck(place.departement_code, place.holiday_zone, place.is_school)
    blocked: list[str] = []  # holidays: named when some days of a window are excluded
    weekends: list[str] = []  # everyone knows weekends are excluded: named only when nothing is left
    unknown = False
    day = start
    days = 0
    while day <= end:
        days += 1
        closed = weekend_reason(day, place)
        outcome = checker.check(day)
        if closed is not None:
            weekends.append(closed)
        elif outcome.is_blocked:
            blocked.append(outcome.blocked_reason)
        elif outcome.warning:
            unknown = True
            warning = outcome.warning
        day += timedelta(days=1)
    if len(blocked) + len(weekends) == days:
        first = (blocked or weekends)[0]
        if days == 1:
            reason = first
        elif not blocked and place.is_school and not place.saturday_classes:
            reason = _l("Aucun jour possible sur cette période : elle ne compte que des samedis et des dimanches, "
                        "et l'établissement n'a pas cours le samedi (à indiquer dans la fiche de l'établissement si "
                        "c'est le cas).")
        else:
            reason = _l("Aucun jour possible sur cette période : %(reason)s", reason=first)
        findings.error(prefix + "start_date", reason)
        return
    if blocked:
        findings.warn(_l("Du %(start)s au %(end)s, certains jours seront exclus : %(reasons)s",
                         start=_day(start), end=_day(end), reasons=" ".join(blocked[:3])
                         + (" …" if len(blocked) > 3 else "")))
    if unknown:
        findings.warn(_l("Du %(start)s au %(end)s : %(warning)s", start=_day(start), end=_day(end),
                         warning=warning))
