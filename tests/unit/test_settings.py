"""Settings: prefix, aliases, lists, defaults, secrets and masking."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from apollonia import settings as settings_module
from apollonia.settings import Settings, load_settings
from shared.runtime.masking import mask_text, mask_url


def test_defaults(config_dir: Path) -> None:
    s = load_settings()
    assert s.amqp_url == "amqp://guest:guest@localhost:5672/"
    assert s.exchange == "apollonia"
    assert s.data_directory == [Path("/data")]
    assert s.config_dir == config_dir
    assert s.database_url == f"sqlite+aiosqlite:///{config_dir}/apollonia.db"
    assert s.test_database_url == f"sqlite+aiosqlite:///{config_dir}/apollonia-test.db"
    assert s.log_level == "INFO"
    assert s.log_format == "auto"


def test_prefixed_names_and_seed_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMQP_CONNECTION_STRING", "amqp://u:p@rabbit:5672/")
    monkeypatch.setenv("DATA_DIRECTORY", "/media/tv, /media/films")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    s = load_settings()
    assert s.amqp_url == "amqp://u:p@rabbit:5672/"
    assert s.data_directory == [Path("/media/tv"), Path("/media/films")]
    assert s.log_level == "DEBUG"
    monkeypatch.setenv("APOLLONIA_AMQP_URL", "amqp://x:y@other/")
    assert load_settings().amqp_url == "amqp://x:y@other/"


def test_explicit_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLONIA_DATABASE_URL", "sqlite+aiosqlite:////srv/cat.db")
    s = load_settings()
    assert s.catalog_url() == "sqlite+aiosqlite:////srv/cat.db"
    assert s.catalog_url(test_db=True).endswith("apollonia-test.db")


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLONIA_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        load_settings()


def test_config_dir_falls_back_to_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(settings_module, "DEFAULT_CONFIG_DIR", tmp_path / "absent")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert settings_module.default_config_dir() == tmp_path / "xdg" / "apollonia"
    present = tmp_path / "config-volume"
    present.mkdir()
    monkeypatch.setattr(settings_module, "DEFAULT_CONFIG_DIR", present)
    assert settings_module.default_config_dir() == present


def test_secrets_dir_is_read_when_present(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "apollonia_amqp_url").write_text("amqp://svc:s3cret@rabbit/")
    monkeypatch.setattr(settings_module, "SECRETS_DIR", secrets)
    assert load_settings().amqp_url == "amqp://svc:s3cret@rabbit/"


def test_absent_secrets_dir_gives_no_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(settings_module, "SECRETS_DIR", tmp_path / "nope")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_settings()


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("APOLLONIA_EXCHANGE=from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().exchange == "from-dotenv"


def test_masked_settings_hide_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APOLLONIA_AMQP_URL", "amqp://user:hunter2@rabbit:5672/vh")
    masked = Settings().masked()
    assert masked["amqp_url"] == "amqp://user:****@rabbit:5672/vh"
    assert "hunter2" not in repr(masked)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("amqp://guest:guest@localhost:5672/", "amqp://guest:****@localhost:5672/"),
        ("amqps://u:p%40ss@[::1]:5671/v", "amqps://u:****@[::1]:5671/v"),
        ("amqp://localhost/", "amqp://localhost/"),
        ("http://admin:pw@rabbit:15672/api", "http://admin:****@rabbit:15672/api"),
    ],
)
def test_mask_url(url: str, expected: str) -> None:
    assert mask_url(url) == expected


def test_mask_text_finds_urls_in_messages() -> None:
    text = "connect to amqp://me:topsecret@host:5672/ failed"
    assert "topsecret" not in mask_text(text)
    assert "amqp://me:****@host:5672/" in mask_text(text)
