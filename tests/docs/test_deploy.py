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
ENTRYPOINT_SCRIPT = "deploy/entrypoint.sh"
REAL_COMMAND = "/usr/local/libexec/apollonia"
# Read by deploy/entrypoint.sh, not by the settings: the user to run as (PUID/PGID as aliases).
ENTRYPOINT_VARIABLES = {"APOLLONIA_UID", "APOLLONIA_GID", "PUID", "PGID"}
CAPABILITIES = {"CHOWN", "DAC_OVERRIDE", "SETUID", "SETGID"}  # for the entrypoint, then dropped
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

    # No USER: `apollonia` in the image is deploy/entrypoint.sh, which hands /config to
    # APOLLONIA_UID:APOLLONIA_GID and drops root; the real command moved to where it looks.
    assert [i for i in dockerfile if i.keyword == "USER"] == []
    assert any("adduser" in i.value and f"-u {UID}" in i.value for i in dockerfile)
    wrapper = [i for i in dockerfile if i.keyword == "COPY" and ENTRYPOINT_SCRIPT in i.value]
    assert len(wrapper) == 1 and wrapper[0].stage == runtime
    assert wrapper[0].value.split() == [
        "--chmod=0755",
        ENTRYPOINT_SCRIPT,
        "/usr/local/bin/apollonia",
    ]
    assert f"mv /usr/local/bin/apollonia {REAL_COMMAND}" in install[0].value
    assert f'real="${{APOLLONIA_BIN:-{REAL_COMMAND}}}"' in (ROOT / ENTRYPOINT_SCRIPT).read_text()
    packages = [i for i in dockerfile if i.keyword == "RUN" and "apk add" in i.value]
    assert any(re.search(r"\bsetpriv\b", i.value) for i in packages if i.stage == runtime)
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
                copied.update(p for p in i.value.split()[:-1] if not p.startswith("--"))
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
    expected: dict[str, dict[str, object]] = {"rabbitmq": {"condition": "service_healthy"}}
    if service == "consumer":  # the catalog's PostgreSQL, when the scale profile runs it
        expected["postgres"] = {"condition": "service_healthy", "required": False}
    assert spec["depends_on"] == expected
    assert "user" not in spec, "the image's entrypoint drops root to APOLLONIA_UID:APOLLONIA_GID"
    assert set(spec["cap_drop"]) == {"ALL"} and set(spec["cap_add"]) == CAPABILITIES
    assert "no-new-privileges:true" in spec["security_opt"]
    assert spec["environment"]["APOLLONIA_UID"] == f"${{APOLLONIA_UID:-{UID}}}"
    assert spec["environment"]["APOLLONIA_GID"] == f"${{APOLLONIA_GID:-{UID}}}"
    assert spec["env_file"] == ".env"
    assert spec["expose"] == [str(DEFAULT_METRICS_PORTS[service])]
    assert "healthcheck" not in spec, "the image's HEALTHCHECK applies"
    env = spec["environment"]
    assert env["APOLLONIA_DATA_DIRECTORY"] == "/data"
    assert env["APOLLONIA_CONFIG_DIR"] == "/config"
    assert "@rabbitmq:5672/" in env["APOLLONIA_AMQP_URL"]
    for name in set(env) - ENTRYPOINT_VARIABLES:
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
    # The same user as the consumer (the image's entrypoint drops root to it).
    user = ("APOLLONIA_UID", "APOLLONIA_GID")
    assert {k: spec["environment"][k] for k in user} == {
        k: consumer["environment"][k] for k in user
    }
    # The consumer creates and migrates the catalog before the enricher opens it.
    assert spec["depends_on"] == {"consumer": {"condition": "service_healthy"}}
    media, config = spec["volumes"]
    assert media == consumer["volumes"][0] and media.endswith(":/data:ro"), "media read-only"
    assert config == consumer["volumes"][1], "the consumer's catalog volume"
    env = {k: v for k, v in spec["environment"].items() if k not in user}
    assert env == {
        "APOLLONIA_DATA_DIRECTORY": "/data",
        "APOLLONIA_CONFIG_DIR": "/config",
        "APOLLONIA_DATABASE_URL": consumer["environment"]["APOLLONIA_DATABASE_URL"],
    }
    # Enrichment does not also run beside the consumer's apply path.
    assert consumer["environment"]["APOLLONIA_ENRICHMENT_WORKER"] == "false"
    assert Settings(enrichment_worker=consumer["environment"]["APOLLONIA_ENRICHMENT_WORKER"])


def test_the_scale_profile(compose: dict[str, Any]) -> None:
    """`--profile scale`: PostgreSQL with a health check, a volume and the password from .env;
    the consumers and enrichers on its catalog, as many as .env says; SQLite without it."""
    pg = compose["services"]["postgres"]
    assert pg["profiles"] == ["scale"]
    assert pg["environment"]["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-}"
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert pg["volumes"] == ["${POSTGRES_VOLUME:-postgres}:/var/lib/postgresql/data"]
    assert "postgres" in compose["volumes"]
    for name, replicas in (("consumer", "CONSUMER_REPLICAS"), ("enricher", "ENRICHER_REPLICAS")):
        spec = compose["services"][name]
        assert "profiles" not in spec, "the default stack keeps its consumer and enricher"
        assert spec["deploy"]["replicas"] == f"${{{replicas}:-1}}"
        assert "hostname" not in spec, "replicas cannot share one"
        assert spec["environment"]["APOLLONIA_DATABASE_URL"] == "${CATALOG_DATABASE_URL:-}"
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "#COMPOSE_PROFILES=scale" in example
    assert "@postgres:5432/" in example


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


# --- several media folders: overlays chosen with COMPOSE_FILE in .env ---------------------------


def mount(volume: str) -> tuple[str, str]:
    """(target, mode) of a short-syntax volume whose source may be a ${...} with colons."""
    parts = INTERPOLATION.sub("SOURCE", volume).split(":")
    return parts[1], parts[2] if len(parts) > 2 else "rw"


def media_overlays() -> list[Path]:
    return sorted((ROOT / "deploy" / "compose").glob("media-*.yml"))


def merge_compose(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """What `docker compose -f base -f overlay` does to what the overlays touch: mappings merge
    key by key (the overlay wins), volume lists merge by their target path."""
    merged: dict[str, Any] = json.loads(json.dumps(base))
    for name, spec in overlay["services"].items():
        target = merged["services"][name]
        for key, value in spec.items():
            if key == "environment":
                target[key] = {**target.get(key, {}), **value}
            elif key == "volumes":
                by_target = {mount(v)[0]: v for v in target.get(key, [])}
                by_target.update({mount(v)[0]: v for v in value})
                target[key] = list(by_target.values())
            else:
                target[key] = value
    return merged


def test_media_overlays_add_folders_with_only_env(compose: dict[str, Any]) -> None:
    overlays = media_overlays()
    assert [p.name for p in overlays] == ["media-2.yml", "media-3.yml", "media-4.yml"]
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"^#?([A-Z_0-9]+)=", example, flags=re.MULTILINE))
    assert "COMPOSE_FILE" in mentioned
    merged = compose
    for number, path in enumerate(overlays, start=2):
        text = path.read_text(encoding="utf-8")
        for match in INTERPOLATION.finditer(text):
            assert match.group(1) in mentioned, f"{path.name}: ${{{match.group(1)}}} not in .env"
        # The file says how to turn it on: COMPOSE_FILE lists every overlay up to it, in order.
        chain = ":".join(
            ["docker-compose.yml", *(f"deploy/compose/{p.name}" for p in overlays[: number - 1])]
        )
        assert f"COMPOSE_FILE={chain}" in text
        merged = merge_compose(merged, yaml.safe_load(text))
        assert compose_errors(merged) == []
        folders = ["/data", *(f"/data{n}" for n in range(2, number + 1))]
        for service in (*SERVICES, "enricher"):  # the enricher opens the files the catalog names
            spec = merged["services"][service]
            media = [mount(v) for v in spec["volumes"] if mount(v)[0].startswith("/data")]
            assert [target for target, _ in media] == folders
            assert all(mode == "ro" for _, mode in media), "media read-only"
            assert spec["environment"]["APOLLONIA_DATA_DIRECTORY"] == ",".join(folders)
            settings = Settings(
                data_directory=spec["environment"]["APOLLONIA_DATA_DIRECTORY"], _secrets_dir=None
            )
            assert [str(p) for p in settings.data_directory] == folders
        assert f"MEDIA_DIR_{number}" in mentioned


# --- Unraid Community Applications templates -------------------------------------------------


CA_TYPES = {"Path", "Port", "Variable", "Label", "Device"}


def unraid_template(service: str) -> Any:
    import xml.etree.ElementTree as ET

    return ET.parse(ROOT / "deploy" / "unraid" / f"apollonia-{service}.xml").getroot()


def test_unraid_templates_match_the_compose_stack(compose: dict[str, Any], service: str) -> None:
    root = unraid_template(service)
    assert root.tag == "Container" and root.get("version") == "2"
    for field in ("Name", "Repository", "Network", "Overview", "ExtraParams"):
        assert (root.findtext(field) or "").strip(), field
    assert root.findtext("Name") == f"apollonia-{service}"
    assert root.findtext("Repository") == compose["services"][service]["image"].replace(
        "${APOLLONIA_IMAGE_TAG:-local}", "local"
    )
    configs = root.findall("Config")
    assert configs
    by_type: dict[str, dict[str, Any]] = {t: {} for t in CA_TYPES}
    for config in configs:
        for attribute in ("Name", "Target", "Default", "Mode", "Type", "Description"):
            assert config.get(attribute) is not None, (config.get("Name"), attribute)
        assert config.get("Type") in CA_TYPES
        assert (config.text or "") == config.get("Default"), config.get("Name")
        by_type[config.get("Type", "")][config.get("Target", "")] = config

    spec = compose["services"][service]
    # Paths: the compose service's volumes, same targets and modes.
    mounts = dict(mount(v) for v in spec["volumes"])
    assert {t: c.get("Mode") for t, c in by_type["Path"].items()} == mounts
    config_default = by_type["Path"]["/config"].get("Default")
    assert config_default.startswith("/mnt/cache/appdata/"), "SQLite never under /mnt/user"
    # Ports: the metrics port compose exposes.
    assert set(by_type["Port"]) == set(spec["expose"])
    assert all(c.get("Mode") == "tcp" for c in by_type["Port"].values())
    # Variables: real settings, or the user to run as (read by deploy/entrypoint.sh).
    variables = set(by_type["Variable"])
    script = (ROOT / ENTRYPOINT_SCRIPT).read_text(encoding="utf-8")
    for name in variables:
        if name in ENTRYPOINT_VARIABLES:
            assert f"${{{name}:-" in script, name
        else:
            assert name.removeprefix("APOLLONIA_").lower() in Settings.model_fields, name
    assert {"APOLLONIA_UID", "APOLLONIA_GID", "APOLLONIA_AMQP_URL"} <= variables
    assert by_type["Variable"]["APOLLONIA_UID"].get("Default") == "99"
    assert by_type["Variable"]["APOLLONIA_GID"].get("Default") == "100"
    assert by_type["Variable"]["APOLLONIA_AMQP_URL"].get("Mask") == "true"
    # The same hardening as compose: every capability dropped but the entrypoint's four.
    extra = (root.findtext("ExtraParams") or "").split()
    assert "--cap-drop=ALL" in extra and "--init" in extra
    assert {p.removeprefix("--cap-add=") for p in extra if p.startswith("--cap-add=")} == (
        CAPABILITIES
    )
    assert "--security-opt=no-new-privileges:true" in extra


# --- deploy/entrypoint.sh, run for real -------------------------------------------------------

needs_root = pytest.mark.skipif(
    not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv")),
    reason="the entrypoint changes owners and drops root: needs root and util-linux setpriv",
)


def entrypoint(
    config: Path, *args: str, env: dict[str, str] | None = None, as_user: int | None = None
) -> subprocess.CompletedProcess[str]:
    """deploy/entrypoint.sh under a POSIX sh, with `id` standing in for the real command."""
    prefix = [] if as_user is None else ["setpriv", f"--reuid={as_user}", f"--regid={as_user}"]
    prefix += ["--clear-groups"] if as_user is not None else []
    full_env = {
        "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
        "APOLLONIA_BIN": shutil.which("id") or "/usr/bin/id",
        "APOLLONIA_CONFIG_DIR": str(config),
        **(env or {}),
    }
    return subprocess.run(
        [*prefix, "sh", str(ROOT / ENTRYPOINT_SCRIPT), *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
    )


@needs_root
def test_entrypoint_hands_config_to_the_user_and_drops_root(tmp_path: Path) -> None:
    config = tmp_path / "state"
    (config / "sub").mkdir(parents=True)
    (config / "apollonia.db").write_bytes(b"")
    os.chown(config / "apollonia.db", 1001, 1001)  # a named volume's first owner
    tmp_path.chmod(0o755)

    ids = entrypoint(config, "-u", env={"APOLLONIA_UID": "99", "APOLLONIA_GID": "100"})
    assert ids.returncode == 0, ids.stderr
    assert ids.stdout.strip() == "99"
    group = entrypoint(config, "-g", env={"APOLLONIA_UID": "99", "APOLLONIA_GID": "100"})
    assert group.stdout.strip() == "100"
    groups = entrypoint(config, "-G", env={"APOLLONIA_UID": "99", "APOLLONIA_GID": "100"})
    assert groups.stdout.split() == ["100"], "no supplementary groups of root"
    for path in (config, config / "sub", config / "apollonia.db"):
        assert (path.stat().st_uid, path.stat().st_gid) == (99, 100), path

    # PUID/PGID as on Unraid and linuxserver.io images; the default is the image's 1001.
    assert entrypoint(config, "-u", env={"PUID": "98", "PGID": "97"}).stdout.strip() == "98"
    assert config.stat().st_uid == 98
    assert entrypoint(config, "-u").stdout.strip() == "1001"
    assert (config / "sub").stat().st_gid == 1001


@needs_root
def test_entrypoint_started_as_a_user_runs_as_that_user(tmp_path: Path) -> None:
    config = tmp_path / "state"
    config.mkdir()
    tmp_path.chmod(0o755)
    ran = entrypoint(config, "-u", env={"APOLLONIA_UID": "99"}, as_user=4242)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "4242"
    assert config.stat().st_uid == 0, "nothing handed over without root"


@needs_root
def test_entrypoint_refuses_a_uid_that_is_not_a_number(tmp_path: Path) -> None:
    ran = entrypoint(tmp_path, "-u", env={"APOLLONIA_UID": "nobody"})
    assert ran.returncode == 1
    assert "APOLLONIA_UID and APOLLONIA_GID must be numbers" in ran.stderr
    assert ran.stdout == ""
