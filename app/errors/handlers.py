"""Error pages in the user's language, with the status code kept."""

from flask import current_app, render_template
from flask_babel import format_decimal
from flask_wtf.csrf import CSRFError

from app.errors import bp
from app.extensions import db


@bp.app_errorhandler(400)
def bad_request(error):
    return render_template("errors/error.html", code=400), 400


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    return render_template("errors/error.html", code=400, csrf=True), 400


@bp.app_errorhandler(403)
def forbidden(error):
    return render_template("errors/error.html", code=403), 403


@bp.app_errorhandler(404)
def not_found(error):
    return render_template("errors/error.html", code=404), 404


@bp.app_errorhandler(405)
def method_not_allowed(error):
    return render_template("errors/error.html", code=405), 405


@bp.app_errorhandler(413)
def request_too_large(error):
    """A file beyond MAX_CONTENT_LENGTH: refused before it is read, with the limit in the page."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return render_template("errors/error.html", code=413, limit_mb=format_decimal(round(limit / 1024 / 1024, 1))), 413


@bp.app_errorhandler(429)
def too_many_requests(error):
    return render_template("errors/error.html", code=429), 429


@bp.app_errorhandler(500)
def internal_error(error):
    db.session.rollback()
    return render_template("errors/error.html", code=500), 500
