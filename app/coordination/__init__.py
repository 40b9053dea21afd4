from flask import Blueprint

bp = Blueprint("coordination", __name__)

from app.coordination import places, routes  # noqa: E402,F401
