"""The pure rules media servers bring: QC of a server's duration and of an unreachable file,
Plex's external ids, Jellyfin's times, the secret reference a source keeps."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from consumer.adapters.importers.jellyfin import JellyfinImporter, _time
from consumer.adapters.importers.plex import external_ids
from consumer.domain.catalog import SecretRef, ServerConfig
from consumer.domain.errors import OperationError
from consumer.domain.quality import TailCheck, check
from consumer.service_layer import admin

PROBED = {"duration": 100.0, "streams": [{"type": "video"}]}


def test_a_server_duration_off_by_more_than_two_percent_is_a_warning_not_a_failure() -> None:
    close = check(PROBED, TailCheck(True), reported_duration=101.5)
    assert close.passed and close.warnings == ()
    off = check(PROBED, TailCheck(True), reported_duration=103.0)
    assert off.passed
    assert [w.rule for w in off.warnings] == ["duration_agrees"]


def test_a_file_never_reached_cannot_pass() -> None:
    report = check(PROBED, TailCheck(True), unreachable="not at /mnt/x")
    assert not report.passed and report.failures[0].rule == "reachable"


def test_plex_external_ids_from_guid_children_and_legacy_agents() -> None:
    video = ET.fromstring(
        '<Video guid="plex://movie/1"><Guid id="imdb://tt1"/><Guid id="tmdb://2"/></Video>'
    )
    assert external_ids(video) == {"imdb": "tt1", "tmdb": "2"}
    legacy = ET.fromstring('<Video guid="com.plexapp.agents.imdb://tt0133093?lang=en"/>')
    assert external_ids(legacy) == {"imdb": "tt0133093"}


def test_jellyfin_times_have_seven_fractional_digits() -> None:
    parsed = _time("2024-03-01T10:20:30.1234567Z")
    assert parsed is not None and parsed.microsecond == 123456 and parsed.utcoffset() is not None
    later = JellyfinImporter._later("2024-03-01T10:20:30.1234567Z", "2024-03-01T10:20:31.0000000Z")
    assert later == "2024-03-01T10:20:31.0000000Z"


def test_the_source_keeps_where_the_secret_is_never_the_secret() -> None:
    config = admin.server_config(
        "plex", admin.ServerOptions(url="http://plex:32400/", token_env="PLEX_TOKEN")
    )
    assert config == ServerConfig("http://plex:32400", SecretRef("env", "PLEX_TOKEN"), 10.0)
    assert ServerConfig.from_mapping(config.as_dict()) == config


@pytest.mark.parametrize(
    ("source_type", "options", "case"),
    [
        ("plex", admin.ServerOptions(token_env="X"), "server_url_missing"),
        ("plex", admin.ServerOptions(url="http://h:1"), "server_secret"),
        (
            "plex",
            admin.ServerOptions(url="http://h:1", token_env="A", token_file="/f"),
            "server_secret",
        ),
        (
            "jellyfin",
            admin.ServerOptions(url="http://h:1?api_key=k", token_env="A"),
            "server_url_credentials",
        ),
        ("filesystem", admin.ServerOptions(url="http://h:1"), "server_options_for_filesystem"),
        ("plex", admin.ServerOptions(url="http://h:1", token_env="A", timeout=0), "server_timeout"),
    ],
)
def test_server_options_are_checked(
    source_type: str, options: admin.ServerOptions, case: str
) -> None:
    with pytest.raises(OperationError) as raised:
        admin.server_config(source_type, options)
    assert raised.value.case == case
