"""The CLI's table of error wording: every code the lower layers raise is worded, with the facts
they raise it with, and the wording is the one the contract fixes."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from apollonia.cli import errors
from consumer.domain.errors import OperationError, PlainPresenter
from consumer.service_layer.admin import AmbiguousError, NotFoundError, invalid
from consumer.service_layer.collection_ingest import IngestFailure

ROOT = Path(__file__).resolve().parents[2]
# Everything below the CLI that may raise an OperationError.
SCANNED = [
    *sorted((ROOT / "consumer").rglob("*.py")),
    ROOT / "apollonia" / "queues.py",
    ROOT / "apollonia" / "embedded.py",
    ROOT / "apollonia" / "oneshot.py",
]
RAISERS = {"OperationError", "IngestFailure", "invalid"}
SCOPE_LEVELS = ("title", "season", "episode")  # ScopeNotFoundError.level


@dataclass(frozen=True)
class Raised:
    where: str
    keys: tuple[str, ...]  # table keys the call can produce
    facts: tuple[str, ...]


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _codes(call: ast.Call, func: str) -> tuple[str, ...]:
    first = call.args[0] if call.args else None
    if first is None:
        assert func == "invalid", ast.unparse(call)
        return ("invalid_argument",)
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return (first.value,)
    # The one computed code: f"{exc.level}_not_found" for a scope that is not there.
    if isinstance(first, ast.JoinedStr) and ast.unparse(first).endswith("_not_found'"):
        return tuple(f"{level}_not_found" for level in SCOPE_LEVELS)
    raise AssertionError(f"cannot tell the error code of {ast.unparse(call)}")


def raised_errors() -> list[Raised]:
    found = []
    for path in SCANNED:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in RAISERS:
                continue
            func = _name(node.func)
            assert func is not None
            if node.args and isinstance(node.args[0], ast.Name):
                continue  # a helper passing its own arguments on (`invalid`'s body)
            case = ""
            facts = []
            for kw in node.keywords:
                assert kw.arg is not None, f"{path}: **facts hide which facts are given"
                if kw.arg == "case":
                    assert isinstance(kw.value, ast.Constant), ast.unparse(node)
                    case = str(kw.value.value)
                else:
                    facts.append(kw.arg)
            keys = tuple(f"{code}.{case}" if case else code for code in _codes(node, func))
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            found.append(Raised(where, keys, tuple(facts)))
    return found


def test_the_scan_finds_the_raise_sites() -> None:
    """Guards the scan itself: if it stopped finding calls, the next test would prove nothing."""
    keys = {key for raised in raised_errors() for key in raised.keys}
    assert {"not_sync_enabled", "broker_unreachable.lost", "season_not_found"} <= keys
    assert len(keys) >= 30


@pytest.mark.parametrize("raised", raised_errors(), ids=lambda r: r.where)
def test_every_raised_code_is_worded_with_the_facts_it_carries(raised: Raised) -> None:
    for key in raised.keys:
        assert key in errors.MESSAGES, f"{raised.where}: no wording for {key!r}"
        # Formatting with exactly the facts given fails if the template wants another one.
        errors.render(errors.MESSAGES[key].template, **dict.fromkeys(raised.facts, "x"))


def test_every_wording_is_used() -> None:
    keys = {key for raised in raised_errors() for key in raised.keys}
    keys |= {"source_not_found", "collection_not_found"}  # NotFoundError words its own code
    keys |= {"ambiguous_name.source", "ambiguous_name.collection"}
    assert set(errors.MESSAGES) - keys == set()


@pytest.mark.parametrize(
    ("error", "exit_code", "message"),
    [
        (NotFoundError("Collection", "Nope"), 1, "Error: Collection 'Nope' not found"),
        (
            AmbiguousError("Source", "Local"),
            1,
            "Error: Multiple sources named 'Local' exist. Please specify the UUID.",
        ),
        (
            invalid(case="hash_mode", known=("full", "stat"), value="fast"),
            1,
            "Error: hash mode must be one of full, stat, got 'fast'",
        ),
        (
            IngestFailure("not_sync_enabled", collection="TV", ref="tv-ext"),
            1,
            "Error: Collection 'TV' is not sync-enabled. Use targeted ingest "
            "(--title/--season/--episode) for surgical operations, or enable sync with "
            "'apollonia collection update tv-ext --sync-enable'.",
        ),
        (
            IngestFailure("season_not_found", detail="Season 9 of 'X' not found in 'TV'"),
            2,
            "Error: Season 9 of 'X' not found in 'TV'",
        ),
        (
            IngestFailure("empty_root", collection="TV", root_path="/m/tv", live=4),
            3,
            "Error: Collection 'TV' root /m/tv holds no media files, but the catalog has 4 live "
            "assets for it: the share may be unmounted. Nothing was marked deleted. Re-run with "
            "--allow-empty if the files really are gone.",
        ),
        (
            OperationError("data_directory_missing", folders=["/a", "/b"]),
            1,
            "Error: data folder(s) not found: /a, /b (pass --data DIR or set "
            "APOLLONIA_DATA_DIRECTORY)",
        ),
        (
            OperationError("broker_unreachable", url="amqp://h/", error="refused"),
            3,
            "Error: broker unreachable at amqp://h/: refused",
        ),
    ],
)
def test_wording_and_exit_code(error: OperationError, exit_code: int, message: str) -> None:
    assert (errors.exit_code(error), errors.message(error)) == (exit_code, message)
    # Importing the application installed the same wording for the service layer's own use.
    assert (error.exit_code, error.message) == (exit_code, message)


def test_an_unworded_error_still_says_its_code_and_facts() -> None:
    error = OperationError("brand_new_code", path="/x")
    assert errors.message(error) == "Error: brand_new_code {'path': '/x'}"
    assert errors.exit_code(error) == 1
    assert PlainPresenter().message(error) == "brand_new_code (path='/x')"
