"""Error pages in the user's language, with the status code kept."""

from flask import render_template
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


@bp.app_errorhandler(429)
def too_many_requests(error):
    return render_template("errors/error.html", code=429), 429


@bp.app_errorhandler(500)
def internal_error(error):
    db.session.rollback()
    return render_template("errors/error.html", code=500), 500
