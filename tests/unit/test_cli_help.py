"""`--help` everywhere: every option described, readable placeholders, an example per command;
and the small words of the output (plurals, one "Error: ")."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
import typer

from apollonia.cli import errors
from apollonia.cli.output import Output
from apollonia.docgen import cli_entries, help_problems, typer_entries
from consumer.domain.errors import OperationError


def test_the_walk_sees_every_command() -> None:
    paths = {ctx.command_path for _, ctx in cli_entries()}
    assert {"apollonia run", "apollonia collection update", "apollonia source update"} <= paths
    assert len(paths) > 25


def test_every_option_has_help_a_readable_placeholder_and_every_command_an_example() -> None:
    assert help_problems() == []


def test_the_checker_catches_what_it_looks_for() -> None:
    """A bare option, a Python-type placeholder, a variable name and a missing example."""
    bad = typer.Typer()

    @bad.command("thing")
    def thing(
        source_sel: Annotated[str, typer.Argument()],
        paths: Annotated[list[str] | None, typer.Option("--path")] = None,
    ) -> None:
        """No example here."""

    @bad.command("other")
    def other() -> None:
        """Nothing to see."""

    problems = "\n".join(help_problems(typer_entries(bad)))
    assert "--path <list[str]> has no help text" in problems
    assert "shows placeholder '<'" in problems
    assert "'_sel'" in problems
    assert "thing: no example" in problems


@pytest.mark.parametrize(
    ("facts", "text"),
    [
        ({"assets": 1}, "has 1 asset;"),
        ({"assets": 2}, "has 2 assets;"),
        ({"assets": 0}, "has 0 assets;"),
    ],
)
def test_counts_are_pluralised(facts: dict[str, int], text: str) -> None:
    error = OperationError("confirmation_required", case="collection", collection="C", **facts)
    assert text in errors.message(error)
    assert errors.plural(1, "collection") == "1 collection"
    assert errors.plural(3, "collection") == "3 collections"


def test_a_wrapped_error_says_error_once(capsys: pytest.CaptureFixture[str]) -> None:
    nested = OperationError("duplicate_name", case="source", name="S")
    crash = OperationError(
        "ingest_failed", collection="C", error=f"{type(nested).__name__}: {nested}"
    )
    assert errors.message(crash).count("Error:") == 1

    for json_mode in (True, False):
        with pytest.raises(typer.Exit):
            Output(json_mode).fail(1, "Error: Error: a source named 'S' already exists")
        out, err = capsys.readouterr()
        text = json.loads(out)["errors"][0]["message"] if json_mode else err
        assert text.count("Error:") == 1, text


def test_usage_lines_name_arguments_plainly() -> None:
    usages = {ctx.command_path: command.get_usage(ctx) for command, ctx in cli_entries()}
    assert usages["apollonia collection show"].endswith("[OPTIONS] COLLECTION")
    assert usages["apollonia collection list"].endswith("[OPTIONS] [SOURCE]")
    assert usages["apollonia publish"].endswith("[OPTIONS] PATH...")
