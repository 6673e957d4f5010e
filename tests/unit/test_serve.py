import subprocess
import sys

import pytest

from shared.logs import GunicornLogger
from shared.serve import Gunicorn, _child_exit, shared_metrics_folder


def test_the_command_line_wins_over_the_config_file_which_wins_over_defaults(tmp_path, monkeypatch):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("workers = 5\nworker_connections = 3\nbind = ['0.0.0.0:9000']\nkeepalive = 7\n")
    app = Gunicorn(lambda: None, {"bind": "127.0.0.1:8001", "workers": None, "worker_connections": 12}, str(conf))
    assert app.cfg.bind == ["127.0.0.1:8001"]
    assert (app.cfg.workers, app.cfg.worker_connections, app.cfg.keepalive) == (5, 12, 7)
    assert app.cfg.worker_class_str == "gevent"


def test_without_a_file_the_defaults_apply():
    app = Gunicorn(lambda: None, {"bind": "127.0.0.1:8001", "workers": None, "worker_connections": None})
    assert (app.cfg.workers, app.cfg.worker_connections) == (2, 1000)


def test_the_command_line_leaves_the_database_client_and_the_metrics_to_the_web_workers():
    """psycopg chooses how to wait when first imported: it must be imported in a web worker,
    after gevent has patched it, never in the gunicorn master (shared/serve.py). prometheus_client's
    metrics choose where to keep their values when made: after the web command has named the
    folder the workers share."""
    check = (
        "import sys, services.cli; assert 'psycopg' not in sys.modules, 'psycopg imported before gevent'; "
        "assert 'prometheus_client' not in sys.modules, 'metrics made before their folder was set'"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_metrics_folder_cannot_be_set_once_metrics_exist(tmp_path):
    import shared.metrics  # the metrics exist now

    with pytest.raises(RuntimeError, match="multiprocess"):
        shared_metrics_folder(tmp_path / "metrics")
    assert not (tmp_path / "metrics").exists()


def test_the_gunicorn_logger_and_the_hook_that_lets_dead_workers_go_are_always_ours(tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("logger_class = 'gunicorn.glogging.Logger'\n")
    app = Gunicorn(lambda: None, {"bind": "127.0.0.1:8001"}, str(conf))
    assert app.cfg.logger_class is GunicornLogger
    assert app.cfg.child_exit is _child_exit
