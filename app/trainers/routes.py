"""Trainer pages: the roster (coordinators, admins), a trainer's record, and availability (the trainer too)."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.access import load, own_trainer, permission
from app.converters import db_id
from app.domain import audit
from app.domain.availability import DEFAULT_SLOTS
from app.domain.certification import WARNING_WINDOW, CertificationState, certification_status
from app.domain.clock import utcnow
from app.domain.feeds import refresh_events_of_trainers
from app.domain.imports.tables import BOM, MEGABYTE
from app.domain.imports.trainers import LIMITS, ImportFileError, export_trainers, import_trainers, read_table
from app.domain.policies import STAFF, TRAINER, TRAINERS, departements_of
from app.domain.roster import (
    GRID_WEEKDAYS,
    HALF_DAYS,
    RosterFilters,
    SlotInput,
    accepted_sessions_between,
    add_exception,
    grid_and_custom,
    month_bounds,
    replace_weekly_pattern,
    roster_page,
    roster_query,
    roster_total,
    shown_period,
    trainer_timezone,
    upcoming_busy,
    upcoming_periods,
)
from app.domain.vocabulary import audience_label, topic_label
from app.emails import queue_activation, queue_email_change
from app.extensions import db
from app.formatting import plural_choice
from app.forms import ConfirmForm
from app.models import (
    Audience,
    AvailabilityException,
    Departement,
    ExceptionKind,
    Force,
    Role,
    Topic,
    Trainer,
    Unit,
    User,
)
from app.models.accounts import normalize_email
from app.trainers import bp
from app.trainers.forms import (
    WEEKDAY_NAMES,
    ExceptionForm,
    ImportForm,
    LimitsForm,
    NewTrainerForm,
    PatternForm,
    RosterFilterForm,
    TrainerForm,
)
from app.unit_of_work import run


def _default_timezone() -> str:
    from flask import current_app

    return current_app.config["RELAIS_DEFAULT_TIMEZONE"]


# -- roster -------------------------------------------------------------------------------------------


def _roster_filters() -> tuple[RosterFilterForm, RosterFilters]:
    """The roster's filters from the query string (a value outside the choices is ignored, not an error)."""
    form = RosterFilterForm(request.args)
    form.departement.choices = [("", _("Tous"))] + departements_of(db.session, current_user)
    form.theme.choices = [("", _("Tous"))] + [(code, topic_label(code)) for code in db.session.scalars(
        select(Topic.code).order_by(Topic.position))]
    form.validate()
    filters = RosterFilters(
        force=Force(form.force.data) if form.force.data in {f.value for f in Force} else None,
        departement_code=form.departement.data or None if not form.departement.errors else None,
        topic_code=form.theme.data or None if not form.theme.errors else None,
        certification=(CertificationState(form.habilitation.data)
                       if form.habilitation.data in {s.value for s in CertificationState} else None),
        active={"oui": True, "non": False}.get(form.actif.data or "oui"),
        search=(form.q.data or "").strip(),
    )
    return form, filters


@bp.route("/")
@permission("trainer", "list")
def roster():
    form, filters = _roster_filters()
    today = utcnow().date()
    rows, next_after = roster_page(db.session, current_user, filters, today, _default_timezone(),
                                   after=request.args.get("apres", type=db_id))
    statuses = {row.trainer.id: certification_status(row.trainer.certified_since, today) for row in rows}
    query_args = {key: value for key, value in request.args.items() if key != "apres" and value}
    return render_template("trainers/roster.html", form=form, rows=rows, statuses=statuses,
                           total=roster_total(db.session, current_user, filters, today),
                           next_url=url_for("trainers.roster", apres=next_after, **query_args) if next_after else None,
                           first_url=url_for("trainers.roster", **query_args) if request.args.get("apres") else None,
                           export_url=url_for("trainers.export", **query_args),
                           warning_days=WARNING_WINDOW.days)


@bp.route("/export.csv")
@permission("export", "trainers")
def export():
    """The trainers the roster shows with the same filters (every page of them), in the import's format."""
    _, filters = _roster_filters()
    text = export_trainers(db.session, roster_query(current_user, filters, utcnow().date()))
    run(lambda: audit.record_read(db.session, "trainers_export", audit.scope_text(request.args),
                                  max(text.count("\n") - 1, 0)))  # a read of personal data in bulk (#21)
    filename = f"formateurs-{utcnow().date().isoformat()}.csv"
    return Response(BOM + text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/import", methods=["GET", "POST"])
@permission("trainer", "import")
def import_roster():
    form = ImportForm()
    report = file_error = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_table(upload.filename, upload.read(LIMITS.max_bytes + 1))
        except ImportFileError as error:
            file_error = str(error)
        else:
            report = import_trainers(db.session, rows, actor=current_user, today=utcnow().date(),
                                     dry_run=form.dry_run.data,
                                     on_created=lambda user: queue_activation(user, inviter=current_user),
                                     on_email_change=lambda user, email: queue_email_change(user, email, current_user))
            if report.written:
                run(lambda: report)  # what the import wrote, with its invitations
                created, updated, unchanged = len(report.created), len(report.updated), len(report.unchanged)
                flash(_("Import enregistré : %(created)s, %(updated)s, %(unchanged)s.",
                        created=ngettext("%(count)s créé", "%(count)s créés", plural_choice(created), count=created),
                        updated=ngettext("%(count)s modifié", "%(count)s modifiés", plural_choice(updated),
                                         count=updated),
                        unchanged=ngettext("%(count)s inchangé", "%(count)s inchangés", plural_choice(unchanged),
                                           count=unchanged)), "success")
            else:
                db.session.rollback()
    max_bytes = min(current_app.config["MAX_CONTENT_LENGTH"] or LIMITS.max_bytes, LIMITS.max_bytes)
    return render_template("trainers/import.html", form=form, report=report, file_error=file_error,
                           max_upload_mb=format_decimal(round(max_bytes / MEGABYTE, 1)),
                           max_rows=format_decimal(LIMITS.max_rows))


# -- a trainer's record -------------------------------------------------------------------------------


def _fill_record_choices(form: TrainerForm, force: Force | None) -> None:
    units = select(Unit).order_by(Unit.departement_code, Unit.name)
    if current_user.role is Role.COORDINATOR:
        codes = {scope.departement_code for scope in current_user.scopes}
        units = units.where(Unit.departement_code.in_(codes))
    if force is not None:
        units = units.where(Unit.force == force)
    form.unit_id.choices = [(unit.id, f"{unit.name} ({unit.departement_code})") for unit in db.session.scalars(units)]
    form.departements.choices = [(d.code, d.label) for d in db.session.scalars(select(Departement)
                                                                               .order_by(Departement.code))]
    form.topics.choices = [(t.code, topic_label(t)) for t in db.session.scalars(select(Topic).order_by(Topic.position))]
    form.audiences.choices = [(a.code, audience_label(a))
                              for a in db.session.scalars(select(Audience).order_by(Audience.position))]


def _record_scope_errors(form: TrainerForm, force: Force) -> bool:
    """A coordinator keeps the trainer in their scope and picks a unit of the trainer's force."""
    unit = db.session.get(Unit, form.unit_id.data)
    if unit is None or unit.force is not force:
        form.unit_id.errors.append(_("Choisissez une unité de la même force que le formateur."))
    if not TRAINERS.serves_scope(current_user, force, form.departements.data):
        form.departements.errors.append(_("Au moins un des départements doit relever de votre périmètre."))
    return bool(form.unit_id.errors or form.departements.errors)


def _save_record(form: TrainerForm, trainer: Trainer) -> None:
    if trainer.id is not None and trainer.rank != form.rank.data:
        refresh_events_of_trainers(db.session, [trainer.id], utcnow())  # events name them with their rank
    for name in ("rank", "unit_id", "initial_training_on", "last_refresher_on", "max_sessions_per_week",
                 "max_sessions_per_month", "max_distance_km", "accepts_pair_work", "active"):
        setattr(trainer, name, form[name].data)
    trainer.languages = form.languages.data.strip()
    trainer.inactive_reason = None if trainer.active else form.inactive_reason.data.strip()
    trainer.departements = [db.session.get(Departement, code) for code in form.departements.data]
    trainer.topics = db.session.scalars(select(Topic).where(Topic.code.in_(form.topics.data))).all()
    trainer.audiences = db.session.scalars(select(Audience).where(Audience.code.in_(form.audiences.data))).all()


@bp.route("/nouveau", methods=["GET", "POST"])
@permission("trainer", "create")
def create():
    form = NewTrainerForm()
    force = Force(form.force.data) if form.force.data in {f.value for f in Force} else None
    _fill_record_choices(form, None)
    if request.method == "GET":
        form.languages.data = "français"
        form.accepts_pair_work.data = True
        form.max_sessions_per_week.data, form.max_sessions_per_month.data, form.max_distance_km.data = 4, 12, 60
        if current_user.role is Role.COORDINATOR and len(current_user.scopes) == 1:
            form.departements.data = [current_user.scopes[0].departement_code]
    if form.validate_on_submit() and not _record_scope_errors(form, force):
        email = normalize_email(form.email.data)
        matricule = form.matricule.data.strip()
        if User.by_email(email) is not None:
            form.email.errors.append(_("Un compte existe déjà avec cette adresse."))
        elif db.session.scalar(select(Trainer.id).where(Trainer.force == force, Trainer.matricule == matricule)):
            form.matricule.errors.append(_("Ce matricule est déjà enregistré pour cette force."))
        else:
            def create_trainer() -> Trainer:
                user = User(email=email, full_name=form.full_name.data.strip(), role=Role.TRAINER,
                            invited_by_id=current_user.id)
                trainer = Trainer(user=user, force=force, matricule=matricule)
                _save_record(form, trainer)
                db.session.add(trainer)
                db.session.flush()
                queue_activation(user, inviter=current_user)
                return trainer

            trainer = run(create_trainer).value
            flash(_("Fiche créée ; une invitation a été envoyée à %(email)s.", email=email), "success")
            return redirect(url_for("trainers.detail", trainer_id=trainer.id))
    return render_template("trainers/edit.html", form=form, trainer=None)


@bp.route("/<int:trainer_id>")
@permission("trainer", "view")
def detail(trainer_id: int):
    trainer = load("trainer", trainer_id, "view")
    page = _render_profile("trainers/detail.html", trainer)
    run(lambda: audit.record_read(db.session, "trainer_record", trainer.full_name, 1, object_id=trainer_id))  # #21
    return page


def _render_profile(template: str, trainer: Trainer, **context):
    now = utcnow()
    timezone_name = trainer_timezone(db.session, trainer)
    start, end = month_bounds(now.date(), timezone_name)
    return render_template(
        template, trainer=trainer, timezone_name=timezone_name,
        certification=certification_status(trainer.certified_since, now.date()),
        sessions_this_month=accepted_sessions_between(db.session, trainer.id, start, end),
        exceptions=upcoming_periods(trainer, timezone_name, now), busy=upcoming_busy(db.session, trainer.id, now),
        default_slots=DEFAULT_SLOTS, weekday_names=WEEKDAY_NAMES, **context)


@bp.route("/<int:trainer_id>/modifier", methods=["GET", "POST"])
@permission("trainer", "edit")
def edit(trainer_id: int):
    trainer = load("trainer", trainer_id, "edit")
    form = TrainerForm(obj=trainer)
    _fill_record_choices(form, trainer.force)
    if request.method == "GET":
        form.departements.data = [d.code for d in trainer.departements]
        form.topics.data = [t.code for t in trainer.topics]
        form.audiences.data = [a.code for a in trainer.audiences]
    if form.validate_on_submit() and not _record_scope_errors(form, trainer.force):
        run(lambda: _save_record(form, trainer))
        flash(_("Fiche de %(name)s enregistrée.", name=trainer.full_name), "success")
        return redirect(url_for("trainers.detail", trainer_id=trainer.id))
    return render_template("trainers/edit.html", form=form, trainer=trainer)


# -- availability (the trainer, or a coordinator for them) ------------------------------------------------


@bp.route("/mes-disponibilites", methods=["GET", "POST"])
@permission("trainer", "availability", only=TRAINER)
def my_availability():
    trainer = own_trainer()
    return _availability_page(trainer, url_for("trainers.my_availability"), own=True)


@bp.route("/<int:trainer_id>/disponibilites", methods=["GET", "POST"])
@permission("trainer", "availability", only=STAFF)
def availability(trainer_id: int):
    trainer = load("trainer", trainer_id, "availability")
    return _availability_page(trainer, url_for("trainers.availability", trainer_id=trainer.id), own=False)


def _availability_page(trainer: Trainer, here: str, own: bool):
    timezone_name = trainer_timezone(db.session, trainer)
    posted = request.form if request.method == "POST" else None
    pattern_form = PatternForm(prefix="creneaux", formdata=posted if posted and "creneaux-submit_pattern" in posted
                               else None)
    exception_form = ExceptionForm(prefix="exception", formdata=posted if posted and "exception-submit_exception"
                                   in posted else None)
    limits_form = LimitsForm(prefix="limites", obj=trainer, formdata=posted if posted and "limites-submit_limits"
                             in posted else None)
    if not pattern_form.is_submitted() or "creneaux-submit_pattern" not in (posted or {}):
        _fill_pattern_form(pattern_form, trainer)

    if posted and "creneaux-submit_pattern" in posted and pattern_form.validate():
        custom = [SlotInput(entry.form.weekday.data, entry.form.start.data, entry.form.end.data)
                  for entry in pattern_form.custom if entry.form.weekday.data not in (None, -1)]
        run(lambda: replace_weekly_pattern(trainer, pattern_form.ticked(), custom, pattern_form.valid_from.data,
                                           pattern_form.valid_until.data))
        flash(_("Créneaux habituels enregistrés."), "success")
        return redirect(here)
    if posted and "exception-submit_exception" in posted and exception_form.validate():
        form = exception_form
        outcome = run(lambda: add_exception(trainer, ExceptionKind(form.kind.data), form.start_day.data,
                                            form.start_time.data, form.end_day.data, form.end_time.data,
                                            (form.reason.data or "").strip(), timezone_name, utcnow()))
        if outcome.ok:
            flash(_("Indisponibilité ajoutée.") if outcome.value.kind is ExceptionKind.UNAVAILABLE
                  else _("Disponibilité supplémentaire ajoutée."), "success")
            return redirect(here)
        form.end_day.errors.append(outcome.message())
    if posted and "limites-submit_limits" in posted and limits_form.validate():
        run(lambda: _save_limits(limits_form, trainer))
        flash(_("Limites enregistrées."), "success")
        return redirect(here)
    if posted and not any(key in posted for key in ("creneaux-submit_pattern", "exception-submit_exception",
                                                    "limites-submit_limits")):
        abort(400)
    delete_endpoint = "trainers.delete_my_exception" if own else "trainers.delete_exception"
    return _render_profile("trainers/availability.html", trainer, own=own, pattern_form=pattern_form,
                           exception_form=exception_form, limits_form=limits_form, grid_weekdays=GRID_WEEKDAYS,
                           half_days=list(HALF_DAYS), delete_endpoint=delete_endpoint)


def _save_limits(form: LimitsForm, trainer: Trainer) -> None:
    for name in ("max_sessions_per_week", "max_sessions_per_month", "max_distance_km", "accepts_pair_work"):
        setattr(trainer, name, form[name].data)
    trainer.languages = form.languages.data.strip()


def _fill_pattern_form(form: PatternForm, trainer: Trainer) -> None:
    ticked, custom = grid_and_custom(trainer.patterns)
    for weekday in GRID_WEEKDAYS:
        for half_day in HALF_DAYS:
            form.grid_field(weekday, half_day).data = (weekday, half_day) in ticked
    for entry, slot in zip(form.custom, custom, strict=False):
        entry.form.weekday.data, entry.form.start.data, entry.form.end.data = slot.weekday, slot.start, slot.end
    if trainer.patterns:
        form.valid_from.data = trainer.patterns[0].valid_from
        form.valid_until.data = trainer.patterns[0].valid_until


def _delete_exception(trainer: Trainer, exception_id: int, here: str):
    """Asks first (GET: the period and a button), deletes on the confirming POST."""
    exception = db.session.get(AvailabilityException, exception_id)
    if exception is None or exception.trainer_id != trainer.id:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        run(lambda: db.session.delete(exception))
        flash(_("Période supprimée."), "success")
        return redirect(here)
    if form.is_submitted():
        abort(400)
    period = shown_period(exception, trainer_timezone(db.session, trainer))
    return render_template("trainers/delete_period.html", trainer=trainer, period=period, form=form, back=here)


@bp.route("/mes-disponibilites/periodes/<int:exception_id>/supprimer", methods=["GET", "POST"])
@permission("trainer", "availability", only=TRAINER)
def delete_my_exception(exception_id: int):
    return _delete_exception(own_trainer(), exception_id, url_for("trainers.my_availability"))


@bp.route("/<int:trainer_id>/periodes/<int:exception_id>/supprimer", methods=["GET", "POST"])
@permission("trainer", "availability", only=STAFF)
def delete_exception(trainer_id: int, exception_id: int):
    trainer = load("trainer", trainer_id, "availability")
    return _delete_exception(trainer, exception_id, url_for("trainers.availability", trainer_id=trainer.id))
