from flask import Blueprint

bp = Blueprint("calendars", __name__)

from app.calendars import caldav_routes, routes  # noqa: E402,F401
