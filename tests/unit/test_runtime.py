"""Process-wide settings: asset UUIDs drawn in batches, and the collector's thresholds."""

from __future__ import annotations

import gc
import os
import uuid
from collections.abc import Iterator

import pytest

from apollonia.cli.main import main
from consumer.domain.assets import new_uuid
from shared.runtime.gc import YOUNG_GENERATION_THRESHOLD, tune_gc


@pytest.fixture
def gc_threshold() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_asset_uuids_are_random_version_4_and_unique() -> None:
    drawn = [new_uuid() for _ in range(5_000)]  # many batches
    assert len(set(drawn)) == len(drawn)
    for text in drawn[:300]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_repeats_the_parents_uuids() -> None:
    new_uuid()  # the pool now holds UUIDs the parent has not handed out yet
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write_end, " ".join(new_uuid() for _ in range(10)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child = set(pipe.read().decode().split())
    os.waitpid(pid, 0)
    parent = {new_uuid() for _ in range(10)}
    assert len(child) == 10
    assert not child & parent


def test_tune_gc_raises_only_the_young_generation(gc_threshold: None) -> None:
    tune_gc()
    assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, 10, 10)


def test_every_cli_command_runs_with_the_tuned_collector(
    gc_threshold: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code in (0, None)
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
    assert capsys.readouterr().out.strip()
