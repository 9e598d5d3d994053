"""docs/asyncapi.yaml: a valid AsyncAPI 3.0 document that says what the code does.

It is validated against the official AsyncAPI 3.0.0 JSON Schema (vendored from the AsyncAPI
Initiative's `@asyncapi/specs` package, see vendor/asyncapi/README.md), and checked against the
code: the exchange, queue and stream names and arguments of `shared.topology`, the message
properties the publisher sets, and the payload schema, which must be the committed
`shared/schemas/file_event.schema.json`, itself generated from the `FileEvent` model.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from apollonia.settings import Settings
from consumer.entrypoints import amqp_worker, batch_apply, poison
from ingestor.publisher import APP_ID as INGESTOR_APP_ID
from shared.schemas import parse as event_parsing
from shared.schemas.export import SCHEMA_FILE
from shared.schemas.file_event import FileEvent, json_schema
from shared.topology import ERROR_HEADER, Topology

ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
ASYNCAPI_SCHEMA = Path(__file__).parent / "vendor" / "asyncapi" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text(encoding="utf-8"))
    assert schema["properties"]["asyncapi"]["const"] == "3.0.0"
    return jsonschema.Draft7Validator(schema)


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def default_topology() -> Topology:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("APOLLONIA_EXCHANGE", raising=False)
        return Settings(_env_file=None, _secrets_dir=None).topology()


def test_valid_against_the_asyncapi_3_schema(
    doc: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []


def test_the_schema_check_can_fail(
    doc: dict[str, Any], validator: jsonschema.Draft7Validator
) -> None:
    broken = json.loads(json.dumps(doc))
    broken["operations"]["publishFileEvent"]["action"] = "publish"  # AsyncAPI 2 wording
    broken["channels"]["fileEvents"]["bindings"]["amqp"]["exchange"]["type"] = "fan-out"
    assert len(list(validator.iter_errors(broken))) == 2


def test_channels_are_the_declared_topology(doc: dict[str, Any]) -> None:
    topology = default_topology()
    channels = doc["channels"]
    addresses = {c["address"] for c in channels.values()}
    assert addresses == {
        topology.exchange,
        topology.catalog_queue,
        topology.dead_exchange,
        topology.dead_queue,
        topology.stream,
    }
    by_address = {c["address"]: c["bindings"]["amqp"] for c in channels.values()}
    for exchange in (topology.exchange, topology.dead_exchange):
        binding = by_address[exchange]
        assert binding["is"] == "routingKey"
        assert binding["exchange"] == {
            "name": exchange,
            "type": "fanout",
            "durable": True,
            "autoDelete": False,
            "vhost": "/",
        }
    queues = {
        topology.catalog_queue: topology.catalog_queue_arguments(),
        topology.dead_queue: topology.dead_queue_arguments(),
        topology.stream: topology.stream_arguments(),
    }
    for name, arguments in queues.items():
        binding = by_address[name]
        assert binding["is"] == "queue"
        assert binding["queue"]["name"] == name
        assert binding["queue"]["durable"] is True
        assert binding["x-arguments"] == arguments, name


def test_operations_reference_existing_channels_and_messages(doc: dict[str, Any]) -> None:
    actions = {}
    for name, operation in doc["operations"].items():
        channel = resolve(doc, operation["channel"]["$ref"])
        assert channel in doc["channels"].values()
        for message in operation["messages"]:
            ref = message["$ref"]
            assert ref.startswith(operation["channel"]["$ref"] + "/messages/"), (name, ref)
            assert resolve(doc, ref)
        actions[name] = (operation["action"], channel["address"])
    topology = default_topology()
    assert actions["publishFileEvent"] == ("send", topology.exchange)
    assert actions["applyFileEvents"] == ("receive", topology.catalog_queue)
    assert actions["deadLetterPoison"] == ("send", topology.dead_exchange)
    assert actions["inspectDeadLetters"] == ("receive", topology.dead_queue)
    assert actions["replayEvents"] == ("receive", topology.stream)
    publish = doc["operations"]["publishFileEvent"]["bindings"]["amqp"]
    assert publish["deliveryMode"] == 2
    assert publish["mandatory"] is True


def test_payload_is_the_committed_file_event_schema(doc: dict[str, Any]) -> None:
    message = doc["components"]["messages"]["fileEvent"]
    target = (ASYNCAPI.parent / message["payload"]["$ref"]).resolve()
    assert target == SCHEMA_FILE.resolve()
    committed = json.loads(target.read_text(encoding="utf-8"))
    assert committed == json_schema()
    # The AsyncAPI schema format is a superset of draft-07: the file must be a valid draft-07
    # schema too (it declares 2020-12 but uses only keywords both drafts share).
    jsonschema.Draft7Validator.check_schema(committed)
    jsonschema.Draft202012Validator.check_schema(committed)


def test_message_properties_match_the_publisher(doc: dict[str, Any]) -> None:
    message = doc["components"]["messages"]["fileEvent"]
    assert message["contentType"] == "application/json"
    assert message["bindings"]["amqp"]["messageType"] == "file.<kind>"
    description = message["description"]
    for row in (
        "| `content_type` | `application/json` |",
        "| `delivery_mode` | `2` (persistent) |",
        "| `message_id` | the event's `event_id` |",
        "| `type` | `file.<kind>`, also the routing key |",
        f"| `app_id` | `{INGESTOR_APP_ID}` |",
    ):
        assert row in description


@pytest.mark.parametrize("name", ["created", "moved", "seed-shaped"])
def test_file_event_examples_are_valid_events(doc: dict[str, Any], name: str) -> None:
    examples = {e["name"]: e for e in doc["components"]["messages"]["fileEvent"]["examples"]}
    payload = examples[name]["payload"]
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(payload)
    event = FileEvent.model_validate(payload)
    if name == "seed-shaped":
        assert event.kind == "created"  # derived from event_type IN_CLOSE_WRITE
    else:
        assert event.kind == name
        assert str(event.event_id) == payload["event_id"]
        assert event.modified_time is not None
        assert event.mtime_ns == int(event.modified_time.timestamp()) * 10**9 + (
            event.modified_time.microsecond * 1000
        )


def test_dead_letters_are_described_as_the_consumer_writes_them(doc: dict[str, Any]) -> None:
    message = doc["components"]["messages"]["deadLetter"]
    headers = set(message["headers"]["properties"])
    # The consumer worker's modules that dead-letter and write the dead-letter headers, and the
    # parser that names the poison categories.
    source = "".join(
        inspect.getsource(m) for m in (amqp_worker, batch_apply, poison, event_parsing)
    )
    written = set(re.findall(r'"(x-apollonia-[a-z-]+)"', source))
    written.add(ERROR_HEADER)
    assert headers == written | {"x-death"}
    categories = set(re.findall(r'PoisonError\(\s*"([a-z_]+)"', source))
    categories |= set(re.findall(r'_dead_letter\(\s*\w+\.message,\s*"([a-z_]+)"', source))
    assert {"too_large", "invalid_json", "schema_violation", "path_rejected"} <= categories
    for category in categories:
        assert f"`{category}`" in message["description"], category
    example = message["examples"][0]["headers"]
    assert example[ERROR_HEADER].startswith("invalid_json: ")


def test_vendored_schema_is_the_published_file() -> None:
    readme = (ASYNCAPI_SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"sha256 `([0-9a-f]{64})`", readme)
    assert recorded is not None
    assert hashlib.sha256(ASYNCAPI_SCHEMA.read_bytes()).hexdigest() == recorded.group(1)


def test_message_contract_page_covers_the_contract(doc: dict[str, Any]) -> None:
    page = (ROOT / "docs" / "message-contract.md").read_text(encoding="utf-8")
    for field in json_schema()["properties"]:
        assert f"`{field}`" in page, f"docs/message-contract.md does not explain {field}"
    topology = default_topology()
    for name in (
        topology.exchange,
        topology.catalog_queue,
        topology.dead_exchange,
        topology.dead_queue,
        topology.stream,
    ):
        assert f"| `{name}` |" in page, name
    for key, value in {**topology.catalog_queue_arguments(), **topology.stream_arguments()}.items():
        if key != "x-queue-type":
            assert f"`{key}: {value}`" in page, key
    assert f"`{ERROR_HEADER}`" in page
    for example in ("created", "moved"):
        assert f"`{example}`" in page
    body = re.search(r"```json\n(.*?)\n```", page, flags=re.DOTALL)
    assert body is not None
    FileEvent.model_validate_json(body.group(1))
    created = doc["components"]["messages"]["fileEvent"]["examples"][0]
    assert created["name"] == "created"
    assert json.loads(body.group(1)) == created["payload"], "the page explains the same example"
