from flask import Blueprint

bp = Blueprint("autopilot", __name__)

from app.autopilot import routes  # noqa: E402,F401
