"""Flask commands: thin wrappers that parse options and call app.domain."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app

from app.domain.clock import utcnow
from app.extensions import db


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

        if not database_is_empty(db.session):
            if if_empty:
                click.echo("La base contient déjà des données : données de démonstration non rechargées.")
                _print_demo_logins()
                return
            raise click.ClickException("La base n'est pas vide : les données de démonstration vont dans une base vide.")
        started = time.perf_counter()
        result = build_demo_data(db.session, seed=seed, scale=scale, today=utcnow().date(),
                                 password_hash_method=current_app.config.get("PASSWORD_HASH_METHOD"))
        db.session.commit()
        click.echo(f"Données de démonstration ({scale}, graine {seed}) chargées en {time.perf_counter() - started:.1f} s : "
                   + ", ".join(f"{count} {name}" for name, count in result.counts.items()))
        _print_demo_logins()

    @app.cli.command("demo-logins")
    def demo_logins_command() -> None:
        """Print the demo accounts and their password."""
        _print_demo_logins()

    @app.cli.command("tick")
    def tick_command() -> None:
        """Run the periodic jobs once (reminders, expiries, warnings); safe to run every minute."""
        from app.domain import jobs  # noqa: F401  (registers the jobs)
        from app.domain.periodic import run_periodic_jobs

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


def _print_demo_logins() -> None:
    from app.domain.demo import DEMO_PASSWORD
    from sqlalchemy import select

    from app.models import User

    emails = db.session.scalars(select(User.email).where(User.email.like("%@relais.demo"),
                                                         User.activated_at.is_not(None)).order_by(User.role, User.email))
    click.echo("\nComptes de démonstration (mot de passe : %s)" % DEMO_PASSWORD)
    for email in emails:
        click.echo(f"  {email}")
