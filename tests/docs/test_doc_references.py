"""The operator docs point only at things that exist.

Every relative link in README.md and docs/*.md leads to a file (and, for `page.md#anchor`, to a
heading of that page), and every `apollonia ...` command line in the shell examples of the pages
written by hand parses with the real command tree.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.docs.test_deploy import parse_with_cli

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Hand-written pages whose shell examples must be runnable as written.
EXAMPLE_PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "architecture.md",
    ROOT / "docs" / "operations.md",
    ROOT / "docs" / "message-contract.md",
]
LINK = re.compile(r"\]\(([^)\s]+)\)")
SHELL_OPERATORS = {";", "&&", "||", "|", "&", "(", ")"}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {slug(h) for h in headings}


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"^[a-z]+:", target)  # http:, https:, mailto:
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    for target in links(page):
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: no heading for {target}"


def test_link_check_can_fail(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\nSee [a](missing.md) and [b](#title) and [c](#nope).\n")
    assert links(page) == ["missing.md", "#title", "#nope"]
    assert "title" in anchors(page) and "nope" not in anchors(page)
    assert slug("Replay and disaster recovery") == "replay-and-disaster-recovery"
    assert slug("`apollonia source add`") == "apollonia-source-add"


def command_lines(page: Path) -> list[list[str]]:
    """Each `apollonia ...` invocation in the page's ```sh blocks, as argv."""
    text = page.read_text(encoding="utf-8")
    found: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
            for start, token in enumerate(tokens):
                if token != "apollonia" or (start and tokens[start - 1] == "alias"):
                    continue
                argv = tokens[start:]
                if start and tokens[start - 1] == "--entrypoint":  # compose run ... SERVICE args
                    argv = ["apollonia", *argv[2:]]
                end = next((i for i, t in enumerate(argv) if t in SHELL_OPERATORS), len(argv))
                found.append(argv[:end])
    return found


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=lambda p: p.name)
def test_example_commands_exist(page: Path) -> None:
    for argv in command_lines(page):
        parse_with_cli(argv)


def test_the_examples_are_found() -> None:
    readme = command_lines(ROOT / "README.md")
    assert ["apollonia", "dlq", "list"] in readme
    assert ["apollonia", "queue", "stats"] in readme
    operations = command_lines(ROOT / "docs" / "operations.md")
    assert ["apollonia", "db", "current"] in operations
    assert len(readme) + len(operations) >= 15
