from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import email_change, routes, sso, tokens, two_factor  # noqa: E402,F401
