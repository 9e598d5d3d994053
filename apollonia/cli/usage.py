"""Usage lines as operators read them: `apollonia collection show [OPTIONS] COLLECTION`.

Typer writes a required argument as `{COLLECTION}` and a repeatable one as `{PATH...}...`; braces
read like a set of choices. This puts back the usual convention: `NAME` required, `[NAME]`
optional, `NAME...` repeatable (once, even when the placeholder already says so). In the
Arguments list an argument with a placeholder is shown by it alone, not followed by its Python
type (`PATH... <list[Path]>`).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument


def _usage_name(argument: TyperArgument) -> str:
    name = argument.display_name_raw
    if argument.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name if argument.required else f"[{name}]"


_typed = TyperArgument.display_type_rich


def _display_type(argument: TyperArgument, ctx: Any) -> str | None:
    return None if argument.metavar is not None else _typed(argument, ctx)


def install() -> None:
    setattr(TyperArgument, "_usage_display_name", _usage_name)  # noqa: B010 - a private hook
    setattr(TyperArgument, "display_type_rich", _display_type)  # noqa: B010
