"""Result and stats dataclasses serialised one way: their fields, in declaration order."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def to_dict(record: DataclassInstance) -> dict[str, Any]:
    """Every field by name, in declaration order; nested lists and dicts are copies, so the
    document never aliases the live record."""
    return asdict(record)
