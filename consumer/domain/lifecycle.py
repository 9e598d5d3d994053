"""The asset lifecycle: what may go on air, and how an asset gets there.

    new ──▶ enriching ──▶ ready
     ▲          │           │
     └──────────┴───────────┘   (enrichment abandoned, or the asset was updated)
    any ──▶ retired            (terminal)

Nothing is ever created `ready`, and only a `ready` asset may be approved for broadcast. The
database enforces the same rules (CHECK constraint and triggers), so no code path can bypass them.
"""

from __future__ import annotations

from enum import StrEnum


class AssetState(StrEnum):
    NEW = "new"
    ENRICHING = "enriching"
    READY = "ready"
    RETIRED = "retired"


class IllegalTransitionError(ValueError):
    """A lifecycle change the state machine does not allow."""


INITIAL_STATE = AssetState.NEW
INITIAL_STATES: frozenset[AssetState] = frozenset({AssetState.NEW, AssetState.ENRICHING})

TRANSITIONS: dict[AssetState, frozenset[AssetState]] = {
    AssetState.NEW: frozenset({AssetState.ENRICHING, AssetState.RETIRED}),
    AssetState.ENRICHING: frozenset({AssetState.READY, AssetState.NEW, AssetState.RETIRED}),
    AssetState.READY: frozenset({AssetState.NEW, AssetState.RETIRED}),
    AssetState.RETIRED: frozenset(),
}


def can_transition(current: AssetState, target: AssetState) -> bool:
    return target == current or target in TRANSITIONS[current]


def transition(current: AssetState, target: AssetState) -> AssetState:
    if not can_transition(current, target):
        raise IllegalTransitionError(f"an asset cannot go from {current} to {target}")
    return target


def check_initial(state: AssetState) -> AssetState:
    if state not in INITIAL_STATES:
        raise IllegalTransitionError(f"an asset cannot be created {state}")
    return state


def state_after_update(current: AssetState) -> AssetState:
    """The state an asset lands in when its content or enrichers changed.

    Whatever was enriched or approved described the old content, so `ready` and `enriching` go
    back to `new`; a retired asset stays retired.
    """
    if current in (AssetState.READY, AssetState.ENRICHING):
        return transition(current, AssetState.NEW)
    return current


def may_be_approved(state: AssetState) -> bool:
    return state == AssetState.READY
