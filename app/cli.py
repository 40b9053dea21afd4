"""Flask commands: thin wrappers that parse options and call app.domain."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app

from app.domain.clock import utcnow
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


def init_app(app: Flask) -> None:
    @app.cli.command("reference-data")
    def reference_data_command() -> None:
        """Load or update départements, topics and audiences from app/data."""
        from app.domain.reference_data import sync_reference_data

        counts = sync_reference_data(db.session)
        db.session.commit()
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))

    @app.cli.command("demo-data")
    @click.option("--seed", default=2026, show_default=True, help="Same seed, same data.")
    @click.option("--scale", type=click.Choice(["demo", "national"]), default="demo", show_default=True)
    @click.option("--if-empty", is_flag=True, help="Do nothing if the database already has accounts.")
    def demo_data_command(seed: int, scale: str, if_empty: bool) -> None:
        """Fill an empty database with a realistic, deterministic data set."""
        from app.domain.demo import build_demo_data, database_is_empty
        from app.jobs import write_messages

        if not database_is_empty(db.session):
            if if_empty:
                click.echo("La base contient déjà des données : données de démonstration non rechargées.")
                _print_demo_logins()
                return
            raise click.ClickException("La base n'est pas vide : les données de démonstration vont dans une base vide.")
        started = time.perf_counter()
        result = run(lambda: build_demo_data(db.session, seed=seed, scale=scale, today=utcnow().date(),
                                             password_hash_method=current_app.config.get("PASSWORD_HASH_METHOD"),
                                             write_messages=write_messages)).value
        elapsed = time.perf_counter() - started
        click.echo(f"Données de démonstration ({scale}, graine {seed}) chargées en {elapsed:.1f} s : "
                   + ", ".join(f"{count} {name}" for name, count in result.counts.items()))
        _print_demo_logins()

    @app.cli.command("demo-logins")
    def demo_logins_command() -> None:
        """Print the demo accounts and their password."""
        _print_demo_logins()

    @app.cli.command("tick")
    def tick_command() -> None:
        """Run the periodic jobs once (reminders, expiries, warnings); safe to run every minute."""
        from app.jobs import run_periodic_jobs

        report = run_periodic_jobs(db.session, utcnow())
        click.echo(", ".join(f"{name}: {count}" for name, count in report.items()) or "aucune tâche")

    @app.cli.command("deliver")
    @click.option("--once", is_flag=True, help="Send what is due, then stop (for cron).")
    @click.option("--interval", default=5.0, show_default=True, help="Seconds between two passes.")
    @click.option("--batch", default=50, show_default=True)
    def deliver_command(once: bool, interval: float, batch: int) -> None:
        """Send the e-mails waiting in the outbox, with retries and back-off."""
        from app.domain.mail import deliver_pending

        transport = mail_transport()
        sender = current_app.config["MAIL_DEFAULT_SENDER"]
        while True:
            sent, failed = deliver_pending(db.session, transport, sender, utcnow(), limit=batch)
            if sent or failed or once:
                click.echo(f"{sent} envoyé(s), {failed} en échec")
            if once:
                return
            if not sent:
                time.sleep(interval)


    @app.cli.command("import-trainers")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Validate and show what would change, write nothing.")
    def import_trainers_command(file: str, dry_run: bool) -> None:
        """Create or update trainers from a CSV or XLSX roster, by (force, matricule)."""
        from pathlib import Path

        from app.domain.imports.trainers import ImportFileError, import_trainers, read_table
        from app.emails import queue_activation, url_context

        try:
            rows = read_table(file, Path(file).read_bytes())
        except ImportFileError as error:
            raise click.ClickException(str(error)) from None
        with click.progressbar(length=max(len(rows) * 2, 1), label="Import des formateurs", file=None) as bar, \
                url_context():
            def progress(done: int, total: int) -> None:
                bar.update(done - bar.pos)

            report = import_trainers(db.session, rows, actor=None, today=utcnow().date(), dry_run=dry_run,
                                     progress=progress, on_created=queue_activation)
        for error in report.errors:
            click.echo(f"Ligne {error.line} : " + " ; ".join(error.messages), err=True)
        if not report.ok:
            db.session.rollback()
            raise click.ClickException(f"{len(report.errors)} ligne(s) en erreur : rien n'a été enregistré.")
        for change in report.updated:
            columns = ", ".join(change.changed_columns)
            click.echo(f"Ligne {change.line} : {change.force} {change.matricule} modifié ({columns})")
        summary = (f"{len(report.created)} créé(s), {len(report.updated)} modifié(s), "
                   f"{len(report.unchanged)} inchangé(s)")
        if dry_run:
            db.session.rollback()
            click.echo(f"Simulation : {summary}. Rien n'a été enregistré.")
        else:
            db.session.commit()
            click.echo(f"Import terminé : {summary}.")

    @app.cli.command("plan")
    @click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Premier jour.")
    @click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Dernier jour.")
    @click.option("--departement", "departements", multiple=True, help="Code du département (répétable).")
    @click.option("--force", type=click.Choice(["police", "gendarmerie"]))
    @click.option("--dry-run", is_flag=True, help="Show the plan's figures, send nothing.")
    def plan_command(date_from, date_to, departements: tuple[str, ...], force: str | None, dry_run: bool) -> None:
        """Plan every accepted session of the period and send the offers (optimal min-cost flow)."""
        from app.domain.offers import OfferSettings
        from app.domain.plan_builder import commit_plan, run_planning
        from app.models import Force

        if date_to < date_from:
            raise click.BadParameter("la fin doit suivre le début", param_hint="--to")
        now = utcnow()
        started = time.perf_counter()
        shown: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            # Every tenth of the way, on stderr, so that stdout stays the figures.
            tenth = done * 10 // max(total, 1)
            if shown.get(step) != tenth:
                shown[step] = tenth
                click.echo(f"{step} : {done}/{total}", err=True)

        planned = run_planning(db.session, date_from=date_from.date(), date_to=date_to.date(),
                               departement_codes=list(departements) or None, force=Force(force) if force else None,
                               now=now, progress=progress)
        elapsed = time.perf_counter() - started
        figures = planned.figures()
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

    @app.cli.command("export-ics")
    @click.option("--departement", help="Code du département.")
    @click.option("--force", type=click.Choice(["police", "gendarmerie"]))
    @click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Premier jour (heure du lieu).")
    @click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Dernier jour (heure du lieu).")
    @click.option("--trainer", "matricule", help="Matricule du formateur.")
    @click.option("--status", "statuses", multiple=True, default=("confirmed", "done"), show_default=True,
                  type=click.Choice(["offered", "confirmed", "done", "not_held", "cancelled"]))
    @click.option("--output", required=True, type=click.Path(dir_okay=False, writable=True), help="Fichier .ics.")
    def export_ics_command(departement, force, date_from, date_to, matricule, statuses, output) -> None:
        """Export the sessions (all scopes) as one iCalendar file."""
        from pathlib import Path

        from sqlalchemy import true

        from app.domain.calendar import COORDINATION
        from app.domain.exports import ExportFilters, export_ics, sessions_for_export
        from app.emails import url_context
        from app.invitations import organizer_for, session_url
        from app.models import Force

        if date_from and date_to and date_to < date_from:
            raise click.BadParameter("la fin doit suivre le début", param_hint="--to")
        filters = ExportFilters(date_from=date_from.date() if date_from else None,
                                date_to=date_to.date() if date_to else None, departement_code=departement,
                                force=Force(force) if force else None, trainer_matricule=matricule,
                                statuses=tuple(statuses))
        interventions = sessions_for_export(db.session, filters, true())
        with url_context():
            body = export_ics(interventions, name="Relais — export", url_for=session_url,
                              organizer_for=organizer_for, now=utcnow(), variant=COORDINATION)
        Path(output).write_bytes(body)
        click.echo(f"{len(interventions)} intervention(s) exportée(s) dans {output}")

    @app.cli.command("export-trainers")
    @click.argument("file", type=click.Path(dir_okay=False, writable=True))
    def export_trainers_command(file: str) -> None:
        """Write the whole roster as CSV, with the columns import-trainers reads."""
        from pathlib import Path

        from sqlalchemy import select

        from app.domain.imports.trainers import export_trainers
        from app.models import Trainer

        text = export_trainers(db.session, select(Trainer))
        Path(file).write_text(text, encoding="utf-8", newline="")
        click.echo(f"{text.count(chr(10)) - 1} formateur(s) exporté(s) dans {file}.")

    @app.cli.command("import-competence")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def import_competence_command(file: str) -> None:
        """Load the ministry's territorial-competence table (police or gendarmerie per commune)."""
        from app.domain.imports.competence import count_data_lines, import_competence, read_competence_file

        try:
            text = read_competence_file(file)
        except UnicodeDecodeError:
            raise click.ClickException("Le fichier n'est pas en UTF-8 : enregistrez-le en UTF-8 et recommencez.") \
                from None
        with click.progressbar(length=max(count_data_lines(text), 1), label="Compétence territoriale") as bar:
            report = import_competence(db.session, text, progress=bar.update)
        for error in report.errors:
            click.echo(str(error), err=True)
        if not report.ok:
            db.session.rollback()
            raise click.ClickException(f"{len(report.errors)} ligne(s) en erreur : rien n'a été enregistré.")
        db.session.commit()
        click.echo(f"Import terminé : {report.created} commune(s) ajoutée(s), {report.updated} modifiée(s), "
                   f"{report.unchanged} inchangée(s).")

def _print_demo_logins() -> None:
    from sqlalchemy import select

    from app.domain.demo import DEMO_PASSWORD
    from app.models import User

    emails = db.session.scalars(
        select(User.email)
        .where(User.email.like("%@relais.demo"), User.activated_at.is_not(None))
        .order_by(User.role, User.email)
    )
    click.echo(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD})")
    for email in emails:
        click.echo(f"  {email}")
