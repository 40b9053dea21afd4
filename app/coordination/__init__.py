from flask import Blueprint

bp = Blueprint("coordination", __name__)

from app.coordination import routes  # noqa: E402,F401
