"""Flask commands: thin wrappers that parse options and call app.domain.

Every command is a `RelaisCommand`: it checks what it needs first (the schema, the reference data) and ends with a
French sentence, never a traceback, on bad input (options and arguments of French types, files within their
import's limits) or a missing step (`flask db upgrade`, `flask reference-data` not run).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context
from flask.cli import ScriptInfo
from sqlalchemy import exists, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from app.converters import EARLIEST_DATE, LATEST_DATE
from app.domain.clock import utcnow
from app.domain.imports.tables import ImportFileError
from app.extensions import db
from app.unit_of_work import run


def mail_transport():
    from app.domain.mail import ConsoleTransport, SmtpTransport

    config = current_app.config
    if config["MAIL_BACKEND"] == "console" or not config["MAIL_SERVER"]:
        return ConsoleTransport()
    return SmtpTransport(host=config["MAIL_SERVER"], port=config["MAIL_PORT"], use_tls=config["MAIL_USE_TLS"],
                         use_ssl=config["MAIL_USE_SSL"], username=config["MAIL_USERNAME"],
                         password=config["MAIL_PASSWORD"])


# -- the one way a command fails: a French sentence -----------------------------------------------------


class CommandError(click.ClickException):
    """What a command says when it stops: « Erreur : » and a French sentence, on stderr."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"Erreur : {self.format_message()}", file=file, err=True)


@dataclass(frozen=True)
class Prerequisite:
    """A step that must have been run before a command: `holds()` checks it, `missing` says what to run."""

    holds: Callable[[], bool]
    missing: str


def _schema_exists() -> bool:
    from app.models import User

    return inspect(db.engine).has_table(User.__tablename__)


def _reference_data_loaded() -> bool:
    from app.models import Audience, Departement, Topic

    return all(db.session.scalar(select(exists().where(column.is_not(None))))
               for column in (Departement.code, Topic.code, Audience.code))


SCHEMA = Prerequisite(_schema_exists, "la base de données n'a pas encore ses tables : lancez d'abord "
                                      "« flask --app wsgi db upgrade ».")
REFERENCE_DATA = Prerequisite(_reference_data_loaded,
                              "les données de référence (départements, thèmes, publics) ne sont pas chargées : "
                              "lancez d'abord « flask --app wsgi reference-data ».")


class RelaisCommand(click.Command):
    """A command that checks its prerequisites, then turns bad input and failed steps into a `CommandError`."""

    def __init__(self, *args, needs: Sequence[Prerequisite] = (SCHEMA,), **kwargs):
        super().__init__(*args, **kwargs)
        self.needs = tuple(needs)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:  # options and arguments: click's own sentences are English
            raise CommandError(_usage_sentence(error, info_name), exit_code=2) from None

    def invoke(self, ctx):
        if not has_app_context():  # as with_appcontext does for the callback: the checks need the app too
            ctx.with_resource(ctx.ensure_object(ScriptInfo).load_app().app_context())
        try:
            for need in self.needs:
                if not need.holds():
                    raise CommandError(need.missing)
            from app.domain import audit  # the author of what the command writes (#21)

            with audit.acting(audit.command_actor(ctx.info_name or "", os.environ.get("RELAIS_OPERATOR"))):
                return super().invoke(ctx)
        except CommandError:
            raise
        except click.UsageError as error:
            raise CommandError(_usage_sentence(error, ctx.info_name), exit_code=2) from None
        except click.ClickException as error:
            raise CommandError(error.format_message()) from None
        except ImportFileError as error:  # its message is French already, with the line
            raise CommandError(str(error)) from None
        except SQLAlchemyError as error:
            db.session.rollback()
            detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise CommandError("la base de données a refusé l'opération, rien n'a été enregistré. Vérifiez "
                               "DATABASE_URL, que le schéma est à jour (« flask --app wsgi db upgrade ») et les "
                               f"données de référence chargées (« flask --app wsgi reference-data »). Détail : "
                               f"{detail}") from None
        except OSError as error:
            where = f" « {error.filename} »" if error.filename else ""
            raise CommandError(f"opération impossible sur le fichier{where} : {error.strerror or error}.") from None


def _usage_sentence(error: click.UsageError, name: str | None) -> str:
    help_hint = f"voir « flask --app wsgi {name} --help »"
    hint = _parameter_name(getattr(error, "param", None)) or getattr(error, "param_hint", None)
    if isinstance(error, click.MissingParameter):
        return f"il manque {hint or 'un paramètre'} ({help_hint})."
    if isinstance(error, click.BadParameter):
        return f"valeur invalide pour {hint} : {error.message}" if hint else error.message
    if isinstance(error, click.NoSuchOption):
        return f"option inconnue : {error.option_name} ({help_hint})."
    return f"commande mal formée ({error.message}) : {help_hint}."


def _parameter_name(param: click.Parameter | None) -> str | None:
    if param is None:
        return None
    if isinstance(param, click.Option):
        return "« " + " / ".join(param.opts) + " »"
    return f"« {param.human_readable_name} »"


# -- French parameter types -----------------------------------------------------------------------------


class Day(click.ParamType):
    name = "AAAA-MM-JJ"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"« {value} » n'est pas une date AAAA-MM-JJ.", param, ctx)
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            self.fail(f"« {value} » est hors des dates acceptées ({EARLIEST_DATE.year}–{LATEST_DATE.year}).",
                      param, ctx)
        return day


class Choice(click.Choice):
    def convert(self, value, param, ctx):
        if value in self.choices:
            return value
        self.fail(f"« {value} » n'est pas une valeur possible ({', '.join(self.choices)}).", param, ctx)


class Integer(click.ParamType):
    name = "entier"

    def __init__(self, low: int | None = None, high: int | None = None):
        self.low, self.high = low, high

    def convert(self, value, param, ctx) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"« {value} » n'est pas un nombre entier.", param, ctx)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            self.fail(f"{number} est hors des limites ({self.low} à {self.high}).", param, ctx)
        return number


class Seconds(click.ParamType):
    name = "secondes"

    def convert(self, value, param, ctx) -> float:
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            self.fail(f"« {value} » n'est pas un nombre de secondes.", param, ctx)
        if not 0.1 <= number <= 3600:
            self.fail(f"{value} est hors des limites (0,1 à 3 600 secondes).", param, ctx)
        return number


class InputFile(click.ParamType):
    name = "fichier"

    def convert(self, value, param, ctx) -> str:
        path = Path(value)
        if not path.exists():
            self.fail(f"le fichier « {value} » n'existe pas.", param, ctx)
        if not path.is_file():
            self.fail(f"« {value} » n'est pas un fichier.", param, ctx)
        return str(path)


class OutputFile(click.ParamType):
    name = "fichier"

    def convert(self, value, param, ctx) -> str:
        path = Path(value)
        if path.is_dir():
            self.fail(f"« {value} » est un dossier : indiquez un nom de fichier.", param, ctx)
        if not path.parent.is_dir():
            self.fail(f"le dossier « {path.parent} » n'existe pas.", param, ctx)
        return str(path)


FORCES = Choice(["police", "gendarmerie"])


def _known_departements(codes: Sequence[str]) -> list[str]:
    from app.models import Departement

    wanted = [code.strip().upper() for code in codes]
    known = set(db.session.scalars(select(Departement.code).where(Departement.code.in_(wanted))))
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise CommandError(f"département(s) inconnu(s) : {', '.join(unknown)}.", exit_code=2)
    return wanted


def _period(date_from: date | None, date_to: date | None) -> None:
    if date_from and date_to and date_to < date_from:
        raise CommandError(f"la fin doit suivre le début (--from {date_from.isoformat()}, --to "
                           f"{date_to.isoformat()}).", exit_code=2)


def init_app(app: Flask) -> None:
    command = functools.partial(app.cli.command, cls=RelaisCommand)

    @command("reference-data")
    def reference_data_command() -> None:
        """Load or update départements, topics and audiences from app/data."""
        from app.domain.reference_data import sync_reference_data

        counts = sync_reference_data(db.session)
        db.session.commit()
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))

    @command("demo-data")
    @click.option("--seed", type=Integer(0, 2**31 - 1), default=2026, show_default=True, help="Same seed, same data.")
    @click.option("--scale", type=Choice(["demo", "national"]), default="demo", show_default=True)
    @click.option("--if-empty", is_flag=True, help="Do nothing if the database already has accounts.")
    def demo_data_command(seed: int, scale: str, if_empty: bool) -> None:
        """Fill an empty database with a realistic, deterministic data set."""
        from app.domain import caldav_push
        from app.domain.demo import build_demo_data, database_is_empty
        from app.jobs import write_messages

        if not database_is_empty(db.session):
            if if_empty:
                click.echo("La base contient déjà des données : données de démonstration non rechargées.")
                _print_demo_logins()
                return
            raise CommandError("la base n'est pas vide : les données de démonstration vont dans une base vide.")
        started = time.perf_counter()
        result = run(lambda: build_demo_data(db.session, seed=seed, scale=scale, today=utcnow().date(),
                                             password_hash_method=current_app.config.get("PASSWORD_HASH_METHOD"),
                                             write_messages=write_messages,
                                             caldav_keys=caldav_push.keys_from(current_app.config))).value
        elapsed = time.perf_counter() - started
        click.echo(f"Données de démonstration ({scale}, graine {seed}) chargées en {elapsed:.1f} s : "
                   + ", ".join(f"{count} {name}" for name, count in result.counts.items()))
        _print_demo_logins()

    @command("audit-verify")
    def audit_verify_command() -> None:
        """Check that the audit trail's hash chain is unbroken (#21): exit 1 naming the first broken entry."""
        from app.domain.audit import verify

        result = verify(db.session)
        db.session.rollback()
        if not result.ok:
            raise CommandError(f"chaîne rompue à l'entrée {result.broken_id} : {result.problem} "
                               f"({result.count} entrées intactes avant elle).")
        click.echo(f"Journal d'audit : chaîne intacte ({result.count} entrées).")

    @command("demo-logins")
    def demo_logins_command() -> None:
        """Print the demo accounts and their password."""
        _print_demo_logins()

    @command("totp-code")
    @click.argument("email")
    def totp_code_command(email: str) -> None:
        """Print the current second-factor code of an account (development and demo only, #21)."""
        from app.domain import caldav_push, two_factor
        from app.models import User

        if current_app.config.get("RELAIS_ENV") == "production":
            raise CommandError("commande refusée en production : le code vient de l'application d'authentification "
                               "de la personne.")
        user = User.by_email(email)
        secret = two_factor.secret_of(user, caldav_push.keys_from(current_app.config)) if user else None
        if secret is None:
            raise CommandError(f"aucune double authentification lisible pour {email}.")
        click.echo(two_factor.code_at(secret, two_factor.current_step(utcnow())))

    @command("tick")
    def tick_command() -> None:
        """Run the periodic jobs once (reminders, expiries, warnings); safe to run every minute."""
        from app.jobs import run_periodic_jobs

        report = run_periodic_jobs(db.session, utcnow())
        click.echo(", ".join(f"{name}: {'échec' if count is None else count}" for name, count in report.items())
                   or "aucune tâche")
        if None in report.values():
            raise SystemExit(1)  # cron and the monitoring see it; the other jobs have run

    @command("deliver")
    @click.option("--once", is_flag=True, help="Send what is due, then stop (for cron).")
    @click.option("--interval", type=Seconds(), default=5.0, show_default=True, help="Seconds between two passes.")
    @click.option("--batch", type=Integer(1, 10_000), default=50, show_default=True)
    def deliver_command(once: bool, interval: float, batch: int) -> None:
        """Send the e-mails waiting in the outbox, with retries and back-off."""
        from app.domain.mail import deliver_pending
        from app.emails import public_host

        transport = mail_transport()
        sender = current_app.config["MAIL_DEFAULT_SENDER"]
        while True:
            sent, failed = deliver_pending(db.session, transport, sender, utcnow(), limit=batch,
                                           base_host=public_host())
            if sent or failed or once:
                click.echo(f"{sent} envoyé(s), {failed} en échec")
            if once:
                return
            if not sent:
                time.sleep(interval)

    @command("import-trainers", needs=(SCHEMA, REFERENCE_DATA))
    @click.argument("file", type=InputFile())
    @click.option("--dry-run", is_flag=True, help="Validate and show what would change, write nothing.")
    def import_trainers_command(file: str, dry_run: bool) -> None:
        """Create or update trainers from a CSV or XLSX roster, by (force, matricule)."""
        from app.domain.imports.tables import check_size
        from app.domain.imports.trainers import LIMITS, import_trainers, read_table
        from app.emails import queue_activation, queue_email_change, url_context

        check_size(Path(file).stat().st_size, LIMITS)
        rows = read_table(file, Path(file).read_bytes())
        with click.progressbar(length=max(len(rows) * 2, 1), label="Import des formateurs", file=None) as bar, \
                url_context():
            def progress(done: int, total: int) -> None:
                bar.update(done - bar.pos)

            report = import_trainers(db.session, rows, actor=None, today=utcnow().date(), dry_run=dry_run,
                                     progress=progress, on_created=queue_activation,
                                     on_email_change=lambda user, email: queue_email_change(user, email, None))
        for error in report.errors:
            click.echo(f"Ligne {error.line} : " + " ; ".join(error.messages), err=True)
        if not report.ok:
            db.session.rollback()
            raise CommandError(f"{len(report.errors)} ligne(s) en erreur : rien n'a été enregistré.")
        for change in report.updated:
            what = [", ".join(change.changed_columns)] if change.changed_columns else []
            if change.pending_email:
                what.append(f"changement d'adresse en attente de confirmation : {change.pending_email}")
            click.echo(f"Ligne {change.line} : {change.force} {change.matricule} modifié ({' ; '.join(what)})")
        summary = (f"{len(report.created)} créé(s), {len(report.updated)} modifié(s), "
                   f"{len(report.unchanged)} inchangé(s)")
        if dry_run:
            db.session.rollback()
            click.echo(f"Simulation : {summary}. Rien n'a été enregistré.")
        else:
            db.session.commit()
            click.echo(f"Import terminé : {summary}.")

    @command("plan", needs=(SCHEMA, REFERENCE_DATA))
    @click.option("--from", "date_from", required=True, type=Day(), help="Premier jour.")
    @click.option("--to", "date_to", required=True, type=Day(), help="Dernier jour.")
    @click.option("--departement", "departements", multiple=True, help="Code du département (répétable).")
    @click.option("--force", type=FORCES)
    @click.option("--dry-run", is_flag=True, help="Show the plan's figures, send nothing.")
    def plan_command(date_from, date_to, departements: tuple[str, ...], force: str | None, dry_run: bool) -> None:
        """Plan every accepted session of the period and send the offers (exact: CP-SAT, pairs included)."""
        from app.domain.offers import OfferSettings
        from app.domain.plan_builder import commit_plan, proof_text, run_planning
        from app.models import Force

        _period(date_from, date_to)
        departements = _known_departements(departements)
        now = utcnow()
        started = time.perf_counter()
        shown: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            # Every tenth of the way, on stderr, so that stdout stays the figures.
            tenth = done * 10 // max(total, 1)
            if shown.get(step) != tenth:
                shown[step] = tenth
                click.echo(f"{step} : {done}/{total}", err=True)

        planned = run_planning(db.session, date_from=date_from, date_to=date_to,
                               departement_codes=list(departements) or None, force=Force(force) if force else None,
                               now=now, progress=progress, time_limit=current_app.config["RELAIS_PLANNING_TIME_LIMIT"])
        elapsed = time.perf_counter() - started
        figures = planned.figures()
        click.echo(proof_text(planned.plan))
        click.echo(f"Interventions à programmer : {figures['interventions']}")
        click.echo(f"Servies : {figures['servies']} (premier arrivé, premier servi : "
                   f"{figures['servies_premier_arrive']})")
        click.echo(f"Kilomètres : {figures['km']} (premier arrivé, premier servi : {figures['km_premier_arrive']})")
        click.echo(f"Propositions : {figures['propositions']} à {figures['formateurs']} formateur(s)")
        for intervention_id, reason in sorted(planned.plan.unserved.items()):
            click.echo(f"Non servie : intervention {intervention_id} — {reason}")
        click.echo(f"Calcul : {elapsed:.1f} s")
        if dry_run:
            db.session.rollback()
            click.echo("Simulation : aucune proposition envoyée.")
            return
        result = run(lambda: commit_plan(db.session, planned.problem, planned.plan, None, now,
                                         OfferSettings.from_config(current_app.config), progress=progress)).value
        click.echo(f"{result.offers} proposition(s) envoyée(s) pour {result.offered_sessions} intervention(s).")
        for intervention_id, code in sorted(result.skipped.items()):
            click.echo(f"Intervention {intervention_id} non proposée ({code}) : elle a changé entre-temps.", err=True)

    @command("export-sessions")
    @click.option("--departement", help="Code du département.")
    @click.option("--force", type=FORCES)
    @click.option("--from", "date_from", type=Day(), help="Premier jour (heure du lieu).")
    @click.option("--to", "date_to", type=Day(), help="Dernier jour (heure du lieu).")
    @click.option("--trainer", "matricule", help="Matricule du formateur.")
    @click.option("--status", "statuses", multiple=True, default=("confirmed", "done"), show_default=True,
                  type=Choice(["offered", "confirmed", "done", "not_held", "cancelled"]))
    @click.option("--format", "file_format", type=Choice(["ics", "csv", "xlsx"]),
                  help="ics, csv (Excel en français : BOM, « ; ») ou xlsx ; par défaut, celui de l'extension du "
                       "fichier (.csv, .xlsx), sinon ics.")
    @click.option("--output", required=True, type=OutputFile(), help="Fichier .ics, .csv ou .xlsx.")
    def export_sessions_command(departement, force, date_from, date_to, matricule, statuses, file_format,
                                output) -> None:
        """Export the sessions (all scopes) as one iCalendar file, a CSV file or an Excel workbook, the columns and
        formats of the export page (export-ics is the same command)."""
        from sqlalchemy import true

        from app.domain.calendar import COORDINATION
        from app.domain.exports import ExportFilters, export_csv, export_ics, export_xlsx, sessions_for_export
        from app.emails import url_context
        from app.invitations import organizer_for, session_url
        from app.models import Force

        _period(date_from, date_to)
        if departement:
            [departement] = _known_departements([departement])
        file_format = file_format or {".csv": "csv", ".xlsx": "xlsx"}.get(Path(output).suffix.lower(), "ics")
        filters = ExportFilters(date_from=date_from, date_to=date_to, departement_code=departement,
                                force=Force(force) if force else None, trainer_matricule=matricule,
                                statuses=tuple(statuses))
        interventions = sessions_for_export(db.session, filters, true())
        if file_format == "csv":
            body = export_csv(interventions)
        elif file_format == "xlsx":
            body = export_xlsx(interventions)
        else:
            with url_context():
                body = export_ics(interventions, name="Relais — export", url_for=session_url,
                                  organizer_for=organizer_for, now=utcnow(), variant=COORDINATION)
        Path(output).write_bytes(body)
        click.echo(f"{len(interventions)} intervention(s) exportée(s) dans {output}")

    app.cli.add_command(export_sessions_command, "export-ics")  # its first name, kept for the scripts that use it

    @command("export-trainers")
    @click.argument("file", type=OutputFile())
    def export_trainers_command(file: str) -> None:
        """Write the whole roster as CSV, with the columns import-trainers reads."""
        from app.domain.imports.tables import BOM
        from app.domain.imports.trainers import export_trainers
        from app.models import Trainer

        text = export_trainers(db.session, select(Trainer))
        Path(file).write_text(BOM + text, encoding="utf-8", newline="")  # what French Excel opens as UTF-8
        click.echo(f"{text.count(chr(10)) - 1} formateur(s) exporté(s) dans {file}.")

    @command("import-competence", needs=(SCHEMA, REFERENCE_DATA))
    @click.argument("file", type=InputFile())
    def import_competence_command(file: str) -> None:
        """Load the ministry's territorial-competence table (police or gendarmerie per commune)."""
        from app.domain.imports.competence import count_data_lines, import_competence, read_competence_file

        text = read_competence_file(file)
        with click.progressbar(length=max(count_data_lines(text), 1), label="Compétence territoriale") as bar:
            report = import_competence(db.session, text, progress=bar.update)
        for error in report.errors:
            click.echo(str(error), err=True)
        if not report.ok:
            db.session.rollback()
            raise CommandError(f"{len(report.errors)} ligne(s) en erreur : rien n'a été enregistré.")
        db.session.commit()
        click.echo(f"Import terminé : {report.created} commune(s) ajoutée(s), {report.updated} modifiée(s), "
                   f"{report.unchanged} inchangée(s).")


def _print_demo_logins() -> None:
    from sqlalchemy import select

    from app.domain.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
    from app.models import User

    emails = db.session.scalars(
        select(User.email)
        .where(User.email.like("%@relais.demo"), User.activated_at.is_not(None))
        .order_by(User.role, User.email)
    )
    click.echo(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD})")
    for email in emails:
        click.echo(f"  {email}")
    click.echo(f"Coordinations et administration : après le mot de passe, un code de double authentification. Clé "
               f"de leur application d'authentification : {DEMO_TOTP_SECRET} ; ou le code du moment : "
               f"flask totp-code admin@relais.demo")
    _print_demo_api_token()


def _print_demo_api_token() -> None:
    """The demo coordinator's token of the API (#22), when the demo data made it."""
    from sqlalchemy import select

    from app.domain.access_tokens import token_hash
    from app.domain.demo import DEMO_API_TOKEN
    from app.models import AccessToken

    token = db.session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash(DEMO_API_TOKEN)))
    if token is not None:
        click.echo(f"Jeton d'API de démonstration ({token.user.email}, lecture et écriture) : {DEMO_API_TOKEN}\n"
                   f"  curl -H 'Authorization: Bearer {DEMO_API_TOKEN}' "
                   f"{current_app.config['RELAIS_BASE_URL'].rstrip('/')}/api/v1/requests ; "
                   "documentation : /api/v1/docs")
