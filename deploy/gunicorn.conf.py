"""Gunicorn settings for the scrm web apps (intake, workflow, settlement, notify) in containers.

Plain gunicorn configuration: module-level names are gunicorn settings. It is loaded by the
``scrm <service> web`` commands when ``SCRM_GUNICORN_CONFIG`` names it (the image does), and
works with ``gunicorn -c`` where the project is installed. The defaults are the project's own,
``DEFAULTS`` in shared/serve.py (the one source: ``scrm <service> web`` without this file uses
them too); this file lets environment variables override them and adds what a container wants
(bind address from PORT, an access log, heartbeat files in memory):

    GUNICORN_BIND              default 0.0.0.0:$PORT, or 0.0.0.0:8000 without PORT
    GUNICORN_WORKERS           default DEFAULTS["workers"] (2: one dying never refuses a request)
    GUNICORN_WORKER_CONNECTIONS  default DEFAULTS["worker_connections"] (clients one worker serves at once)
    GUNICORN_TIMEOUT           default DEFAULTS["timeout"] (seconds)
    GUNICORN_GRACEFUL_TIMEOUT  default DEFAULTS["graceful_timeout"] (seconds)
    GUNICORN_KEEPALIVE         default DEFAULTS["keepalive"] (seconds)
    GUNICORN_BACKLOG           default 2048
    GUNICORN_MAX_REQUESTS      default 0 (never recycle workers)
    GUNICORN_MAX_REQUESTS_JITTER  default 0
    GUNICORN_LOGLEVEL          default info
    GUNICORN_ACCESSLOG         default "-" (stdout); empty string disables it
    GUNICORN_FORWARDED_ALLOW_IPS  default 127.0.0.1,::1
    GUNICORN_PRELOAD           default false
    GUNICORN_PROC_NAME         default scrm

The ``--bind`` and ``--workers`` options of ``scrm <service> web`` take precedence.
"""

import os

from shared.serve import DEFAULTS


def _env_str(name, default):
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _env_int(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return int(value)


def _env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "y", "on")


# --- sockets -----------------------------------------------------------------
bind = [_env_str("GUNICORN_BIND", "0.0.0.0:" + _env_str("PORT", "8000"))]
backlog = _env_int("GUNICORN_BACKLOG", 2048)

# --- workers -----------------------------------------------------------------
worker_class = DEFAULTS["worker_class"]
workers = _env_int("GUNICORN_WORKERS", DEFAULTS["workers"])
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", DEFAULTS["worker_connections"])
timeout = _env_int("GUNICORN_TIMEOUT", DEFAULTS["timeout"])
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", DEFAULTS["graceful_timeout"])
keepalive = _env_int("GUNICORN_KEEPALIVE", DEFAULTS["keepalive"])
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 0)
preload_app = _env_bool("GUNICORN_PRELOAD", False)

# The heartbeat file is touched constantly: keep it in memory, not on an
# overlay filesystem, where os.fchmod can block a worker (gunicorn FAQ).
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"

# --- proxies -----------------------------------------------------------------
forwarded_allow_ips = _env_str("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# --- logging -----------------------------------------------------------------
# Access log to stdout, error log to stderr: one JSON object per line either way, written by
# shared.logs.GunicornLogger (always the logger class: access_log_format is not used), with the
# request's correlation id, tenant and ticket.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = _env_str("GUNICORN_LOGLEVEL", "info")
proc_name = _env_str("GUNICORN_PROC_NAME", "scrm")
