"""The agenda by trainer and day: a week and a month of the coordination's territory, a trainer's own month.

Plain GET pages (filters, previous / next / today are links and a GET form): they work without JavaScript, and an
address says what it shows, so it can be kept or sent to a colleague.
"""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.access import own_trainer, permission
from app.agenda import bp
from app.converters import db_id, query_date
from app.domain import agenda
from app.domain.clock import utcnow
from app.domain.policies import departements_of
from app.domain.roster import trainer_timezone
from app.extensions import db
from app.models import Force

# What each state of an entry shows besides its colour: a symbol (hidden from screen readers) and words.
STATES = {
    agenda.EntryState.PENDING: ("?", _l("Proposée, en attente de réponse"), _l("en attente")),
    agenda.EntryState.ACCEPTED: ("½", _l("Acceptée, second formateur attendu"), _l("second formateur attendu")),
    agenda.EntryState.CONFIRMED: ("✓", _l("Confirmée"), _l("confirmée")),
    agenda.EntryState.DONE: ("✓", _l("Réalisée"), _l("réalisée")),
    agenda.EntryState.NOT_HELD: ("✕", _l("Non tenue"), _l("non tenue")),
    agenda.EntryState.CANCELLED: ("✕", _l("Annulée"), _l("annulée")),
    agenda.EntryState.UNSTAFFED: ("!", _l("Sans formateur"), _l("sans formateur")),
}
VIEWS = {"week": "agenda.week", "month": "agenda.month"}


def _states() -> dict:
    """The states' words in the page's language, translated once (a lazy string looks its catalogue up each time it
    is shown, and a month shows hundreds of entries)."""
    return {key: (icon, str(label), str(short)) for key, (icon, label, short) in STATES.items()}


def _default_zone() -> str:
    return current_app.config["RELAIS_DEFAULT_TIMEZONE"]


def _filters(departements: dict[str, str]) -> agenda.AgendaFilters:
    departement = request.args.get("departement", "").strip()
    force = request.args.get("force", "").strip()
    return agenda.AgendaFilters(
        departement=departement if departement in departements and len(departements) > 1 else None,
        force=Force(force) if force in {f.value for f in Force} and agenda.forces_to_choose(current_user) else None,
        trainer_id=request.args.get("formateur", type=db_id),
        establishment_id=request.args.get("etablissement", type=db_id))


def _team_page(kind: str):
    today = agenda.local_today(utcnow(), _default_zone())
    period = agenda.Period.of(kind, request.args.get("jour", type=query_date) or today)
    departements = departements_of(db.session, current_user)
    filters = _filters(dict(departements))
    # The whole country's trainers, its lists of trainers and establishments, its line of sessions nobody staffs
    # would be thousands of empty rows or options and hundreds of entries: the country shows who works in the
    # period; a département, everything.
    narrow = current_user.role != "admin" or filters.departement is not None
    result = agenda.team_agenda(db.session, current_user, period, filters, after=request.args.get("apres", type=db_id),
                                limit=agenda.PAGE_SIZE if kind == "week" else agenda.MONTH_PAGE_SIZE,
                                whole_territory=narrow)
    trainers = agenda.trainer_options(db.session, current_user, filters) if narrow else []
    establishments = agenda.establishment_options(db.session, current_user, period, filters) if narrow else []
    kept = {key: value for key, value in request.args.items() if key in (
        "departement", "force", "formateur", "etablissement") and value}

    def link(endpoint: str = VIEWS[kind], day=None, **extra) -> str:
        return url_for(endpoint, **kept, **({"jour": day.isoformat()} if day else {}), **extra)

    return render_template(
        "agenda/team.html", kind=kind, period=period, today=today, result=result, filters=filters,
        departements=departements if len(departements) > 1 else [], choose_force=agenda.forces_to_choose(current_user),
        trainers=trainers, establishments=establishments, narrow=narrow, states=_states(), link=link,
        default_zone=_default_zone(),
        next_url=link(day=period.first, apres=result.next_after) if result.next_after else None,
        first_url=link(day=period.first) if request.args.get("apres") else None)


@bp.route("/semaine")
@permission("agenda", "team")
def week():
    return _team_page("week")


@bp.route("/mois")
@permission("agenda", "team")
def month():
    return _team_page("month")


@bp.route("/mon-mois")
@permission("agenda", "own")
def mine():
    trainer = own_trainer()
    zone = trainer_timezone(db.session, trainer)
    today = agenda.local_today(utcnow(), zone)
    period = agenda.Period.of("month", request.args.get("jour", type=query_date) or today)
    as_list = request.args.get("affichage") == "liste"
    result = agenda.trainer_agenda(db.session, current_user, trainer, period, zone)
    extra = {"affichage": "liste"} if as_list else {}

    def link(day=None, **more) -> str:
        return url_for("agenda.mine", **({"jour": day.isoformat()} if day else {}), **{**extra, **more})

    return render_template("agenda/mine.html", period=period, today=today, result=result, states=_states(),
                           link=link, as_list=as_list, default_zone=_default_zone())
