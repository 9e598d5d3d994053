"""The Dockerfiles, the compose stack and its Prometheus config refer only to what exists.

No Docker engine is needed: the Dockerfiles are linted with hadolint and read instruction by
instruction; their HEALTHCHECK and ENTRYPOINT are parsed by the real `apollonia` command tree;
docker-compose.yml is validated against the compose-spec JSON Schema (vendored by
check-jsonschema) and checked against the settings (ports, paths, user) and `.env.example`.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.main import get_command

from apollonia.cli.main import app
from apollonia.settings import DEFAULT_METRICS_PORTS, Settings

ROOT = Path(__file__).resolve().parents[2]
# The services with an image of their own; the enricher runs the consumer's image.
SERVICES = ("ingestor", "consumer")
assert set(SERVICES) < set(DEFAULT_METRICS_PORTS)
RABBITMQ_PROMETHEUS_PORT = 15692
UID = 1001
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
# scheme://user:password@host, where user and password may be ${...} interpolations
CREDENTIALS_IN_URL = re.compile(r"://(?:\$\{[^}]*\}|[^:/@\s]+):(\$\{[^}]*\}|[^@\s]+)@")


# --- Dockerfiles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    stage: int


def parse_dockerfile(path: Path) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped; stage 0 is before FROM."""
    instructions: list[Instruction] = []
    stage = 0
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, value = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, value.strip(), stage))
    return instructions


def exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(p, str) for p in parsed), value
    return parsed


def parse_with_cli(argv: list[str]) -> list[str]:
    """Parse `apollonia ...` with the real command tree (nothing runs); the command path."""
    assert argv[0] == "apollonia"
    command: Any = get_command(app)
    ctx = command.make_context("apollonia", [], resilient_parsing=True)
    path = ["apollonia"]
    rest = argv[1:]
    while hasattr(command, "list_commands") and rest and not rest[0].startswith("-"):
        name, rest = rest[0], rest[1:]
        sub = command.get_command(ctx, name)
        assert sub is not None, f"`{' '.join(path)} {name}` is not a command"
        path.append(name)
        command = sub
        ctx = command.make_context(name, list(rest), parent=ctx)  # raises on a bad argument
    assert not hasattr(command, "list_commands"), f"`{' '.join(path)}` needs a subcommand"
    return path


@pytest.fixture(params=SERVICES)
def service(request: pytest.FixtureRequest) -> str:
    value = request.param
    assert isinstance(value, str)
    return value


@pytest.fixture
def dockerfile(service: str) -> list[Instruction]:
    return parse_dockerfile(ROOT / f"Dockerfile.{service}")


def the(instructions: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in instructions if i.keyword == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {len(found)}"
    return found[0]


def hadolint() -> str:
    venv_bin = str(Path(sys.executable).parent)
    found = shutil.which("hadolint", path=venv_bin + os.pathsep + os.environ.get("PATH", ""))
    if found is None:
        pytest.fail("hadolint not found: install the dev extras (pip install -e '.[dev]')")
    return found


def test_dockerfiles_pass_hadolint(service: str) -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(ROOT / f"Dockerfile.{service}")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install requests\n", encoding="utf-8")
    result = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, check=False)
    assert result.returncode != 0


def test_entrypoint_and_healthcheck_are_real_commands(
    service: str, dockerfile: list[Instruction]
) -> None:
    entrypoint = exec_form(the(dockerfile, "ENTRYPOINT").value)
    assert entrypoint == ["apollonia", service]
    assert parse_with_cli(entrypoint) == ["apollonia", service]

    healthcheck = the(dockerfile, "HEALTHCHECK").value
    options, _, command = healthcheck.partition("CMD ")
    assert command, "HEALTHCHECK must run a command (exec form)"
    argv = exec_form(command)
    assert argv == ["apollonia", "health", "--service", service]  # no curl, no port
    assert parse_with_cli(argv) == ["apollonia", "health"]
    assert "--timeout=" in options and "--start-period=" in options


def test_the_cli_parser_rejects_what_does_not_exist() -> None:
    with pytest.raises(Exception, match="nope"):
        parse_with_cli(["apollonia", "health", "--service", "nope"])
    with pytest.raises(AssertionError, match="not a command"):
        parse_with_cli(["apollonia", "frobnicate"])


def test_images_follow_the_container_layout(service: str, dockerfile: list[Instruction]) -> None:
    runtime = max(i.stage for i in dockerfile)
    assert runtime == 2, "a build stage and a runtime stage"
    args = {
        i.value.split("=", 1)[0]: i.value.split("=", 1)[1]
        for i in dockerfile
        if i.keyword == "ARG" and "=" in i.value
    }
    assert args["PYTHON_IMAGE"].startswith("python:3.13-alpine")
    froms = [i.value for i in dockerfile if i.keyword == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]

    build_tools = [i for i in dockerfile if i.keyword == "RUN" and "build-base" in i.value]
    assert build_tools and all(i.stage == 1 for i in build_tools), "compilers in the build only"
    install = [i for i in dockerfile if i.keyword == "RUN" and "pip install" in i.value]
    assert len(install) == 1 and install[0].stage == runtime
    assert "--no-index" in install[0].value and "from=build" in install[0].value

    assert the(dockerfile, "USER").value == f"{UID}:{UID}"
    assert any("adduser" in i.value and f"-u {UID}" in i.value for i in dockerfile)
    assert exec_form(the(dockerfile, "VOLUME").value) == ["/data", "/config"]
    assert the(dockerfile, "EXPOSE").value == str(DEFAULT_METRICS_PORTS[service])
    env = " ".join(i.value for i in dockerfile if i.keyword == "ENV")
    assert "APOLLONIA_CONFIG_DIR=/config" in env
    assert "APOLLONIA_DATA_DIRECTORY=/data" in env
    assert all("APOLLONIA_METRICS_PORT" not in i.value for i in dockerfile)


def test_oci_labels(service: str, dockerfile: list[Instruction]) -> None:
    labels = " ".join(i.value for i in dockerfile if i.keyword == "LABEL")
    for key in ("title", "description", "version", "revision", "source", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert f'org.opencontainers.image.title="apollonia-{service}"' in labels
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(i.value == f"VERSION={project['version']}" for i in dockerfile if i.keyword == "ARG")
    assert f'licenses="{project["license"]}"' in labels


def test_dockerignore_admits_exactly_what_the_build_copies() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list"
    admitted = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied: set[str] = set()
    for service in SERVICES:
        for i in parse_dockerfile(ROOT / f"Dockerfile.{service}"):
            if i.keyword == "COPY" and "--from" not in i.value:
                copied.update(i.value.split()[:-1])
    assert copied == admitted
    for path in admitted:
        assert (ROOT / path).exists(), path
    assert ".env" not in admitted and ".venv" not in admitted


# --- docker-compose.yml ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(compose_text)
    assert isinstance(loaded, dict)
    return loaded


def compose_schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    loaded = json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def compose_errors(document: dict[str, Any]) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_file_is_valid_compose_spec(compose: dict[str, Any]) -> None:
    assert compose_errors(compose) == []
    broken = json.loads(json.dumps(compose))
    broken["services"]["consumer"]["depends_on"]["rabbitmq"]["condition"] = "healthy"
    assert compose_errors(broken), "the schema check must be able to fail"


def test_rabbitmq_service(compose: dict[str, Any]) -> None:
    rabbit = compose["services"]["rabbitmq"]
    assert rabbit["image"] == "rabbitmq:3-management"
    assert rabbit["hostname"] == "rabbitmq"
    assert "rabbitmq:/var/lib/rabbitmq" in rabbit["volumes"]
    assert "rabbitmq" in compose["volumes"]
    assert rabbit["healthcheck"]["test"] == [
        "CMD",
        "rabbitmq-diagnostics",
        "-q",
        "check_port_connectivity",
    ]
    assert str(RABBITMQ_PROMETHEUS_PORT) in rabbit["expose"]
    plugins_mount = next(v for v in rabbit["volumes"] if "enabled_plugins" in v)
    source = plugins_mount.split(":")[0]
    plugins = (ROOT / source).read_text(encoding="utf-8")
    assert re.fullmatch(r"\[[a-z_,]+\]\.\n", plugins), "an Erlang list term"
    assert {"rabbitmq_management", "rabbitmq_prometheus"} <= set(plugins[1:-3].split(","))


def test_apollonia_services(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    assert spec["build"] == {"context": ".", "dockerfile": f"Dockerfile.{service}"}
    assert spec["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}
    assert spec["user"] == f"${{APOLLONIA_UID:-{UID}}}:${{APOLLONIA_GID:-{UID}}}"
    assert spec["env_file"] == ".env"
    assert spec["expose"] == [str(DEFAULT_METRICS_PORTS[service])]
    assert "healthcheck" not in spec, "the image's HEALTHCHECK applies"
    env = spec["environment"]
    assert env["APOLLONIA_DATA_DIRECTORY"] == "/data"
    assert env["APOLLONIA_CONFIG_DIR"] == "/config"
    assert "@rabbitmq:5672/" in env["APOLLONIA_AMQP_URL"]
    for name in env:
        assert name.removeprefix("APOLLONIA_").lower() in Settings.model_fields, name
    media, config = spec["volumes"]
    assert media.startswith("${MEDIA_DIR:?") and media.endswith("}:/data:ro"), "media read-only"
    volume = INTERPOLATION.fullmatch(config.removesuffix(":/config"))
    assert volume is not None and volume.group(3) in compose["volumes"], "its own volume"
    assert volume.group(3) == {"ingestor": "ingestor-state", "consumer": "catalog"}[service]


def test_enricher_service(compose: dict[str, Any]) -> None:
    """The enrichment worker alone: the consumer image running `apollonia enricher`, the media
    read-only at the consumer's path, the consumer's catalog volume, its own health check."""
    spec = compose["services"]["enricher"]
    consumer = compose["services"]["consumer"]
    assert spec["build"] == consumer["build"] and spec["image"] == consumer["image"]
    assert spec["entrypoint"] == ["apollonia", "enricher"]
    root: Any = get_command(app)
    enricher = root.get_command(
        root.make_context("apollonia", [], resilient_parsing=True), "enricher"
    )
    assert enricher is not None and enricher.invoke_without_command, "runs with no subcommand"
    health = spec["healthcheck"]["test"]
    assert health == ["CMD", "apollonia", "health", "--service", "enricher"]
    assert parse_with_cli(health[1:]) == ["apollonia", "health"]
    assert spec["expose"] == [str(DEFAULT_METRICS_PORTS["enricher"])]
    assert spec["user"] == consumer["user"]
    # The consumer creates and migrates the catalog before the enricher opens it.
    assert spec["depends_on"] == {"consumer": {"condition": "service_healthy"}}
    media, config = spec["volumes"]
    assert media == consumer["volumes"][0] and media.endswith(":/data:ro"), "media read-only"
    assert config == consumer["volumes"][1], "the consumer's catalog volume"
    env = spec["environment"]
    assert env == {"APOLLONIA_DATA_DIRECTORY": "/data", "APOLLONIA_CONFIG_DIR": "/config"}
    # Enrichment does not also run beside the consumer's apply path.
    assert consumer["environment"]["APOLLONIA_ENRICHMENT_WORKER"] == "false"
    assert Settings(enrichment_worker=consumer["environment"]["APOLLONIA_ENRICHMENT_WORKER"])


def test_the_consumer_image_installs_ffmpeg() -> None:
    """The enricher's ffprobe enricher and tail-decode check need ffprobe and ffmpeg."""
    runtime = [
        i
        for i in parse_dockerfile(ROOT / "Dockerfile.consumer")
        if i.keyword == "RUN" and i.stage == 2 and "apk add" in i.value
    ]
    assert any("ffmpeg" in i.value.split() for i in runtime)


def password_findings(document: Any) -> tuple[list[str], int]:
    """(places where a password is written out, number of password places checked)."""

    def entries(node: Any, key: str = "") -> list[tuple[str, Any]]:
        """Every (key, value) pair, list items under their list's key."""
        if isinstance(node, dict):
            return [e for k, v in node.items() for e in [(str(k), v), *entries(v, str(k))]]
        if isinstance(node, list):
            return [e for item in node for e in [(key, item), *entries(item, key)]]
        return []

    plaintext: list[str] = []
    checked = 0
    for key, value in entries(document):
        if not isinstance(value, str):
            continue
        candidates = CREDENTIALS_IN_URL.findall(value)
        if "PASS" in key.upper():
            candidates.append(value)
        for candidate in candidates:
            checked += 1
            if not INTERPOLATION.fullmatch(candidate):
                plaintext.append(key)
    return plaintext, checked


def test_no_password_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    plaintext, checked = password_findings(compose)
    assert plaintext == [], "passwords must come from .env (${...})"
    assert checked >= 4  # RabbitMQ's own, and the URLs of both services
    leaky = {"environment": {"RABBITMQ_DEFAULT_PASS": "hunter2"}, "command": ["amqp://u:p@h/"]}
    assert password_findings(leaky) == (["RABBITMQ_DEFAULT_PASS", "command"], 2)


def test_every_compose_variable_is_in_env_example(compose_text: str) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    set_lines = dict(
        line.split("=", 1) for line in example.splitlines() if re.match(r"^[A-Z_]+=", line)
    )
    mentioned = set(re.findall(r"^#?([A-Z_]+)=", example, flags=re.MULTILINE))
    used = {m.group(1): m.group(2) for m in INTERPOLATION.finditer(compose_text)}
    for name, operator in used.items():
        assert name in mentioned, f"${{{name}}} is not explained in .env.example"
        if operator == ":?":
            assert name in set_lines, f"{name} is required: .env.example must list it"
    assert set_lines["RABBITMQ_PASSWORD"] == "", ".env.example ships no password"
    # Compose-only names that share the APOLLONIA_ prefix must not shadow a real setting.
    for name in set_lines:
        if name.startswith("APOLLONIA_"):
            assert name.removeprefix("APOLLONIA_").lower() not in Settings.model_fields, name
    Settings(_env_file=ROOT / ".env.example", _secrets_dir=None)  # loads without complaint


def test_monitoring_profile_scrapes_every_metrics_port(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    config_path = ROOT / mounts["/etc/prometheus/prometheus.yml"]
    assert (ROOT / mounts["/etc/prometheus/rules"]).is_dir()
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    expected = {f"{s}:{port}" for s, port in DEFAULT_METRICS_PORTS.items()}
    expected.add(f"rabbitmq:{RABBITMQ_PROMETHEUS_PORT}")
    assert {t for ts in targets.values() for t in ts} == expected
    for target in expected:
        host = target.split(":")[0]
        assert host in compose["services"], host
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
