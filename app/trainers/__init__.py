from flask import Blueprint

bp = Blueprint("trainers", __name__)

from app.trainers import routes, sessions  # noqa: E402,F401
