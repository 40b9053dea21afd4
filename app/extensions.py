"""Flask extensions, created here and bound to the app in the factory."""

from flask import request, session
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from app.models.base import db

__all__ = ["babel", "bootstrap", "cache", "csrf", "db", "limiter", "login_manager", "migrate", "select_locale"]
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
limiter = Limiter(key_func=get_remote_address)
# Figures computed once per revision of the data (app.domain.revisions): per process, or in Redis when set.
cache = Cache()


def select_locale() -> str:
    """The language chosen with the switch, else French (the service's language)."""
    from flask import current_app
    from flask_login import current_user

    languages = current_app.config["RELAIS_LANGUAGES"]
    # The API (#22) answers programs: Accept-Language, never the cookies; its documentation page is for people.
    if request and request.path.startswith("/api/") and not request.path.startswith("/api/v1/docs"):
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("language") if request else None
    if chosen in languages:
        return chosen
    if request and current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


babel = Babel()
