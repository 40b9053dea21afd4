from flask import Blueprint

bp = Blueprint("calendars", __name__)

from app.calendars import routes  # noqa: E402,F401
