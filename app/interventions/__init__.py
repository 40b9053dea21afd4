from flask import Blueprint

bp = Blueprint("interventions", __name__)

from app.interventions import routes  # noqa: E402,F401
