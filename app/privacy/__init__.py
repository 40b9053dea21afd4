"""Personal data and the pages a French public service must have (issue #21): « Mes données » and its correction
request, the retention periods (national administration), the legal pages (mentions légales, données personnelles,
accessibilité)."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from app.privacy import routes  # noqa: E402,F401
