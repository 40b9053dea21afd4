from flask import Blueprint

bp = Blueprint("trainers", __name__)

from app.trainers import routes  # noqa: E402,F401
