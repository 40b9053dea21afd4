"""`gunicorn bench.frozen_app:app`, for the page benchmark: the app of `wsgi.py`, its clock frozen at the bench's NOW.

The data set is generated as of 1 February 2027 (`bench.data.NOW`): frozen there, every page shows the
same school year, the same "upcoming" sessions and the same feed window, whatever day the benchmark
runs. Nothing else differs from `gunicorn wsgi:app` (configuration from the environment).
"""

from app.domain.clock import clock
from bench.data import NOW
from wsgi import app

clock.freeze(NOW)

__all__ = ["app"]
