"""Static checks of the container deployment.

Covers docker-compose.yml, deploy/Dockerfile and deploy/gunicorn.conf.py
without a Docker engine: the compose file is parsed with PyYAML (which
resolves the YAML anchors and ``<<`` merge keys the way Compose does), and
every app container's ``command`` is resolved against the real ``scrm``
click group and run with ``--help``.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"

SERVICES = ("intake", "workflow", "settlement", "notify")
WEB_PORTS = {"intake": 8001, "workflow": 8002, "settlement": 8003, "notify": 8004}
WORKERS = ("intake", "workflow", "settlement", "notify")  # intake learns H5 forms from workflow

EXPECTED_APP_SERVICES = (
    {"db-init"} | {f"{s}-web" for s in SERVICES} | {f"{s}-worker" for s in WORKERS} | {f"relay-{s}" for s in SERVICES}
)
LONG_RUNNING_RESTART = {"always", "unless-stopped", "on-failure"}


def _load_compose() -> dict:
    with COMPOSE_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


COMPOSE = _load_compose()
COMPOSE_SERVICES: dict = COMPOSE.get("services") or {}


def _builds_from_project_dockerfile(service: dict) -> bool:
    build = service.get("build")
    if build is None:
        return False
    if isinstance(build, str):
        build = {"context": build}
    context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
    dockerfile = (context / build.get("dockerfile", "Dockerfile")).resolve()
    return context == ROOT and dockerfile == DOCKERFILE.resolve()


APP_SERVICES = sorted(name for name, svc in COMPOSE_SERVICES.items() if _builds_from_project_dockerfile(svc))
WEB_SERVICES = sorted(n for n in APP_SERVICES if n.endswith("-web"))
WORKER_AND_RELAY_SERVICES = sorted(n for n in APP_SERVICES if n.endswith("-worker") or n.startswith("relay-"))


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def _depends_on(service: dict) -> dict:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return dict(deps)


def _healthcheck_test(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        return " ".join(str(part) for part in test)
    return str(test or "")


def _container_ports(service: dict) -> set[int]:
    ports = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def _bind_port(command: list[str]) -> int | None:
    for i, arg in enumerate(command):
        if arg == "--bind":
            return int(command[i + 1].rsplit(":", 1)[-1])
        if arg.startswith("--bind="):
            return int(arg.rsplit(":", 1)[-1])
    return None


# --- the file as a whole -----------------------------------------------------


def test_compose_file_follows_the_compose_spec_layout():
    assert isinstance(COMPOSE, dict)
    assert "version" not in COMPOSE, "the Compose specification has no 'version' key"
    assert COMPOSE_SERVICES, "no services defined"
    for name in COMPOSE_SERVICES:
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name), name
    # Named volumes used by services are declared at top level.
    declared = set(COMPOSE.get("volumes") or {})
    for name, svc in COMPOSE_SERVICES.items():
        for vol in svc.get("volumes") or []:
            source = vol.get("source") if isinstance(vol, dict) else str(vol).split(":", 1)[0]
            if source and not source.startswith((".", "/", "~", "$")):
                assert source in declared, f"{name}: volume {source!r} is not declared"


# --- (a) infrastructure --------------------------------------------------------


def test_kafka_is_apache_kafka_in_kraft_mode_with_healthcheck():
    kafka = COMPOSE_SERVICES["kafka"]
    assert str(kafka["image"]).startswith("apache/kafka"), kafka["image"]
    env = _env(kafka)
    assert "controller" in str(env.get("KAFKA_PROCESS_ROLES", "")), "not KRaft"
    assert "broker" in str(env.get("KAFKA_PROCESS_ROLES", ""))
    assert env.get("CLUSTER_ID"), "the apache/kafka image needs CLUSTER_ID in KRaft mode"
    assert not any("zookeeper" in k.lower() for k in env), "KRaft mode uses no ZooKeeper"
    assert "zookeeper" not in COMPOSE_SERVICES
    test = _healthcheck_test(kafka)
    assert "/opt/kafka/bin/" in test, test


def test_postgres_is_postgresql_with_pg_isready_healthcheck():
    postgres = COMPOSE_SERVICES["postgres"]
    assert str(postgres["image"]).startswith("postgres:"), postgres["image"]
    assert "pg_isready" in _healthcheck_test(postgres)


# --- (b) image ---------------------------------------------------------------


def test_every_app_service_builds_from_the_project_dockerfile():
    missing = EXPECTED_APP_SERVICES - set(APP_SERVICES)
    assert not missing, f"not defined or not built from deploy/Dockerfile: {sorted(missing)}"


def test_dockerfile_runs_scrm_as_non_root():
    assert DOCKERFILE.is_file()
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]

    froms = [line for line in instructions if line.upper().startswith("FROM ")]
    assert froms and "slim" in text and "python:" in text

    entrypoints = [line for line in instructions if line.upper().startswith("ENTRYPOINT")]
    assert entrypoints, "no ENTRYPOINT"
    assert json.loads(entrypoints[-1].split(None, 1)[1]) == ["scrm"]

    users = [line.split(None, 1)[1] for line in instructions if line.upper().startswith("USER ")]
    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")

    assert re.search(r"pip (install|wheel)\b.*\s\.(\s|$)", text), "the project is not installed with pip"


# --- (c) every command is a real scrm command ----------------------------------


def _cli_source_present() -> bool:
    return any(
        p.exists()
        for base in (ROOT, ROOT / "src")
        for p in (base / "services" / "cli.py", base / "services" / "cli" / "__init__.py")
    )


@pytest.fixture(scope="module")
def scrm_cli():
    # Skipped only while services/cli.py does not exist; once it does, any
    # import error fails these tests.
    if not _cli_source_present():
        pytest.skip("services/cli.py is not written yet")
    from services.cli import cli  # imported late on purpose

    return cli


def _resolve(group: click.Command, args: list[str]) -> tuple[click.Command, list[str], click.Context, list[str]]:
    """Walk ``args`` through nested click groups as click would.

    Returns the command reached, its path, its parent context and the
    arguments left for it.
    """
    cmd, path = group, []
    ctx = click.Context(group, info_name="scrm")
    i = 0
    while isinstance(cmd, click.Group) and i < len(args):
        token = args[i]
        if token.startswith("-"):
            name = token.split("=", 1)[0]
            option = next(
                (p for p in cmd.params if isinstance(p, click.Option) and name in p.opts + p.secondary_opts),
                None,
            )
            assert option is not None, f"{' '.join(['scrm', *path])} has no option {name}"
            takes_value = not (option.is_flag or option.count)
            i += 2 if takes_value and "=" not in token else 1
            continue
        sub = cmd.get_command(ctx, token)
        assert sub is not None, f"'{' '.join(['scrm', *path])}' has no command {token!r}"
        parent = ctx
        ctx = click.Context(sub, info_name=token, parent=ctx)
        cmd, path = sub, [*path, token]
        i += 1
    return cmd, path, parent, args[i:]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_command_is_a_scrm_command(name, scrm_cli, tmp_path):
    command = COMPOSE_SERVICES[name].get("command")
    assert isinstance(command, list) and command, f"{name}: command must be a non-empty list"
    assert all(isinstance(arg, str) for arg in command), f"{name}: quote every argument"

    env = {
        "SCRM_TRANSPORT": "embedded",
        "SCRM_DATA_DIR": str(tmp_path),
        "SCRM_DATABASE_URL": None,
        "SCRM_KAFKA_BOOTSTRAP": None,
    }
    runner = CliRunner()

    leaf, path, parent, rest = _resolve(scrm_cli, command)
    assert path and not isinstance(leaf, click.Group), f"{name}: {command} stops at the group 'scrm {' '.join(path)}'"
    # The leaf's own arguments and options parse (required arguments present,
    # choices valid), without running it.
    with runner.isolation(env=env):
        try:
            leaf.make_context(path[-1], list(rest), parent=parent)
        except click.ClickException as exc:
            pytest.fail(f"{name}: scrm {' '.join(command)}: {exc.format_message()}")

    result = runner.invoke(scrm_cli, [*command, "--help"], env=env, prog_name="scrm")
    assert result.exit_code == 0, (
        f"{name}: scrm {' '.join(command)} --help exited {result.exit_code}\n{result.output}\n{result.exception!r}"
    )
    assert "no such command" not in result.output.lower(), result.output
    assert "Usage:" in result.output, result.output


# --- (d) health and restart policies --------------------------------------------


def test_web_services_found():
    assert WEB_SERVICES == sorted(f"{s}-web" for s in SERVICES)


@pytest.mark.parametrize("name", WEB_SERVICES)
def test_web_service_has_healthcheck_on_its_own_port(name):
    svc = COMPOSE_SERVICES[name]
    port = WEB_PORTS[name.removesuffix("-web")]
    command = svc["command"]
    assert command[:2] == [name.removesuffix("-web"), "web"], command
    assert _bind_port(command) == port, f"{name} should bind port {port}: {command}"
    assert str(command[command.index("--bind") + 1]).startswith("0.0.0.0:"), (
        "bind all interfaces inside the container, or the published port is unreachable"
    )
    assert port in _container_ports(svc), f"{name}: port {port} not published"

    test = _healthcheck_test(svc)
    assert test, f"{name} has no healthcheck"
    match = re.search(r"https?://[^/\s:'\"]+:(\d+)/healthz", test)
    assert match, f"{name}: healthcheck does not GET /healthz: {test}"
    assert int(match.group(1)) == port
    assert "curl" not in test and "wget" not in test, "python:*-slim has neither curl nor wget"


@pytest.mark.parametrize("name", WORKER_AND_RELAY_SERVICES + WEB_SERVICES)
def test_long_running_service_restarts(name):
    assert COMPOSE_SERVICES[name].get("restart") in LONG_RUNNING_RESTART


def test_workers_and_relays_found():
    expected = {f"{s}-worker" for s in WORKERS} | {f"relay-{s}" for s in SERVICES}
    assert set(WORKER_AND_RELAY_SERVICES) == expected


def test_db_init_is_one_shot_after_postgres():
    svc = COMPOSE_SERVICES["db-init"]
    assert svc["command"] == ["db", "init"]
    assert svc.get("restart", "no") == "no", "a one-shot job must not be restarted"
    assert _depends_on(svc)["postgres"]["condition"] == "service_healthy"


# --- (e) dependencies ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMPOSE_SERVICES))
def test_depends_on_targets_exist_and_conditions_fit(name):
    for target, spec in _depends_on(COMPOSE_SERVICES[name]).items():
        assert target in COMPOSE_SERVICES, f"{name} depends on unknown service {target!r}"
        assert target != name
        condition = spec.get("condition", "service_started")
        if condition == "service_healthy":
            assert COMPOSE_SERVICES[target].get("healthcheck"), f"{target} has no healthcheck"
        if condition == "service_completed_successfully":
            assert COMPOSE_SERVICES[target].get("restart", "no") == "no", (
                f"{target} is waited on to exit, so it must not restart"
            )


@pytest.mark.parametrize("name", sorted(set(APP_SERVICES) - {"db-init"}))
def test_app_services_wait_for_infrastructure_and_schema(name):
    deps = _depends_on(COMPOSE_SERVICES[name])
    assert deps.get("postgres", {}).get("condition") == "service_healthy"
    assert deps.get("kafka", {}).get("condition") == "service_healthy"
    assert deps.get("db-init", {}).get("condition") == "service_completed_successfully"


def test_no_dependency_cycles():
    graph = {name: set(_depends_on(svc)) for name, svc in COMPOSE_SERVICES.items()}
    done: set[str] = set()

    def visit(node: str, stack: tuple[str, ...]) -> None:
        assert node not in stack, f"dependency cycle: {' -> '.join((*stack, node))}"
        if node in done:
            return
        for dep in graph.get(node, ()):
            visit(dep, (*stack, node))
        done.add(node)

    for name in graph:
        visit(name, ())


# --- shared environment ----------------------------------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_environment_points_at_compose_infrastructure(name):
    env = _env(COMPOSE_SERVICES[name])
    assert env.get("SCRM_TRANSPORT") == "kafka"

    bootstrap = env.get("SCRM_KAFKA_BOOTSTRAP")
    assert bootstrap and bootstrap.split(":")[0] in COMPOSE_SERVICES
    advertised = str(_env(COMPOSE_SERVICES["kafka"]).get("KAFKA_ADVERTISED_LISTENERS", ""))
    assert f"://{bootstrap}" in advertised, f"{bootstrap} is not an advertised Kafka listener"

    url = urllib.parse.urlsplit(env.get("SCRM_DATABASE_URL", ""))
    assert url.scheme.startswith("postgres")
    assert url.hostname == "postgres"
    pg_env = _env(COMPOSE_SERVICES["postgres"])
    assert url.username == pg_env.get("POSTGRES_USER")
    assert url.path.lstrip("/") == pg_env.get("POSTGRES_DB")

    expected_create_table = "y" if name == "db-init" else "n"
    assert str(env.get("SCRM_CREATE_TABLES")).lower() == expected_create_table


# --- (f) relays ----------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_one_relay_per_service(service):
    relays = [n for n, svc in COMPOSE_SERVICES.items() if svc.get("command") == ["relay", service]]
    assert relays == [f"relay-{service}"], relays


# --- gunicorn configuration -------------------------------------------------------


def _exec_gunicorn_conf() -> dict:
    namespace: dict = {"__file__": str(GUNICORN_CONF), "__name__": "gunicorn_conf"}
    exec(compile(GUNICORN_CONF.read_text(encoding="utf-8"), str(GUNICORN_CONF), "exec"), namespace)
    return namespace


_GUNICORN_ENV = (
    "GUNICORN_BIND",
    "PORT",
    "GUNICORN_WORKERS",
    "GUNICORN_WORKER_CONNECTIONS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "GUNICORN_ACCESSLOG",
)


@pytest.fixture
def clean_gunicorn_env(monkeypatch):
    for var in _GUNICORN_ENV:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_gunicorn_conf_defines_core_settings(clean_gunicorn_env):
    conf = _exec_gunicorn_conf()
    for key in ("bind", "workers", "worker_class"):
        assert key in conf, f"gunicorn.conf.py does not define {key}"
    assert conf["worker_class"] == "gevent"
    assert isinstance(conf["workers"], int) and conf["workers"] >= 1
    assert isinstance(conf["worker_connections"], int) and conf["worker_connections"] >= 1
    assert conf["accesslog"] == "-"
    assert conf["graceful_timeout"] >= 1 and conf["timeout"] >= 1


def test_gunicorn_conf_reads_environment(clean_gunicorn_env):
    clean_gunicorn_env.setenv("GUNICORN_BIND", "127.0.0.1:9999")
    clean_gunicorn_env.setenv("GUNICORN_WORKERS", "3")
    clean_gunicorn_env.setenv("GUNICORN_WORKER_CONNECTIONS", "7")
    conf = _exec_gunicorn_conf()
    bind = conf["bind"]
    assert (bind if isinstance(bind, str) else bind[0]) == "127.0.0.1:9999"
    assert conf["workers"] == 3
    assert conf["worker_connections"] == 7


def test_gunicorn_conf_uses_only_known_valid_settings(clean_gunicorn_env):
    gunicorn_config = pytest.importorskip("gunicorn.config")
    conf = _exec_gunicorn_conf()
    settings = {
        k: v
        for k, v in conf.items()
        if not k.startswith("_") and k.islower() and not callable(v) and not isinstance(v, type(json))
    }
    cfg = gunicorn_config.Config()
    unknown = sorted(set(settings) - set(cfg.settings))
    assert not unknown, f"not gunicorn settings: {unknown}"
    for key, value in settings.items():
        cfg.set(key, value)  # runs gunicorn's own validators
    assert cfg.worker_class_str == "gevent"


def test_gunicorn_conf_takes_its_defaults_from_the_one_source(clean_gunicorn_env):
    from shared.serve import DEFAULTS

    conf = _exec_gunicorn_conf()
    assert {k: conf[k] for k in DEFAULTS if k in conf} == {k: v for k, v in DEFAULTS.items() if k in conf}


@pytest.mark.parametrize("name", WEB_SERVICES)
def test_each_web_service_runs_two_workers_at_least(name, clean_gunicorn_env):
    """One worker dying must never refuse a request: another answers while it is replaced."""
    command = COMPOSE_SERVICES[name]["command"]
    assert "--workers" not in command or int(command[command.index("--workers") + 1]) >= 2
    for key, value in _env(COMPOSE_SERVICES[name]).items():
        if key.startswith("GUNICORN_") and value is not None:
            clean_gunicorn_env.setenv(key, str(value))
    assert _exec_gunicorn_conf()["workers"] >= 2


# --- Kafka topics: what scrm creates and what the broker creates agree ------------------------------


@pytest.mark.parametrize("name", APP_SERVICES)
def test_partitions_and_replication_are_the_brokers_defaults_too(name):
    from shared.settings import Settings

    settings = Settings.from_env({k: str(v) for k, v in _env(COMPOSE_SERVICES[name]).items() if v is not None})
    kafka = _env(COMPOSE_SERVICES["kafka"])
    assert settings.kafka_partitions == int(kafka["KAFKA_NUM_PARTITIONS"]) >= 1
    assert settings.kafka_replication == int(kafka["KAFKA_DEFAULT_REPLICATION_FACTOR"])
    brokers = len(str(kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"]).split(","))
    assert settings.kafka_replication <= brokers, "more replicas than brokers: topics could not be created"


@pytest.mark.parametrize("name", WORKER_AND_RELAY_SERVICES)
def test_workers_and_relays_serve_their_metrics_where_prometheus_can_reach_them(name):
    env = _env(COMPOSE_SERVICES[name])
    assert int(env["SCRM_METRICS_PORT"]) > 0 and env["SCRM_METRICS_HOST"] == "0.0.0.0"


def test_the_uploads_volume_is_mounted_on_a_folder_the_image_gives_to_scrm():
    text = DOCKERFILE.read_text(encoding="utf-8")
    data_dir = re.search(r"SCRM_DATA_DIR=(\S+)", text)[1]
    mounts = [str(v).split(":")[1] for v in COMPOSE_SERVICES["intake-web"]["volumes"]]
    assert f"{data_dir}/uploads" in mounts
    assert re.search(rf"mkdir -p [^\n]*{re.escape(data_dir)}/uploads", text)
    assert re.search(rf"chown -R scrm:scrm {re.escape(data_dir)}\b", text)
