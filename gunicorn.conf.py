"""gunicorn settings for Relais: `gunicorn wsgi:app` reads this file from the working directory.

Every value can be changed from the environment (systemd unit, container)."""

import multiprocessing
import os

from gunicorn.glogging import Logger

bind = os.environ.get("RELAIS_BIND", "127.0.0.1:8000")
# Pages wait on the database, not the CPU: two workers per core, at least two.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("RELAIS_THREADS", 1))
timeout = int(os.environ.get("RELAIS_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then: a slow leak never becomes an outage.
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("RELAIS_ACCESS_LOG", "-")
errorlog = "-"
# No query string in the access log (search terms stay out of it), and the path's secrets (feed, reset and
# activation tokens) redacted by the logger class below. The worker's pid ties a line to the error log.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %(p)s'
# The reverse proxies' addresses: gunicorn believes X-Forwarded-Proto from them only, as the app does for
# X-Forwarded-For (RELAIS_TRUSTED_PROXIES, app/operations.py).
forwarded_allow_ips = os.environ.get("RELAIS_PROXY_ADDRESSES", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"))
proxy_allow_ips = forwarded_allow_ips
raw_env = ["RELAIS_ENV=" + os.environ.get("RELAIS_ENV", "production")]


class RedactingLogger(Logger):
    """gunicorn's access and error logs, with every secret of a path replaced by <token> (app.operations.redact,
    the function every log of the app goes through)."""

    def setup(self, cfg):
        super().setup(cfg)
        from app.operations import RedactionFilter

        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactionFilter) for existing in log.filters):
                log.addFilter(RedactionFilter())


logger_class = RedactingLogger


def on_starting(server):
    """Several workers counting rate limits each in their own memory: say so, loudly, once."""
    from app.operations import shared_store_warning
    from config import CONFIGS

    config = CONFIGS[os.environ.get("RELAIS_ENV", "production")]
    warning = shared_store_warning(server.cfg.workers, config.RATELIMIT_STORAGE_URI, config.RATELIMIT_ENABLED)
    if warning:
        server.log.warning(warning)


def post_worker_init(worker):
    """Once the app is loaded, its objects (modules, mappers, templates: over 100,000) leave the garbage
    collector's watch: otherwise every full collection walks them all, about 50 ms in the middle of a
    request now and then, which is a page's p99."""
    import gc

    gc.collect()
    gc.freeze()
    # A young-generation collection every 5,000 new objects rather than 700: a page of fifty rows made about
    # two a request, each walking the objects still alive; most die sooner, freed by their last reference.
    gc.set_threshold(5000, 10, 10)
