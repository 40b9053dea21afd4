from flask import Blueprint

bp = Blueprint("establishments", __name__)

from app.establishments import routes  # noqa: E402,F401
