"""Settings: the environment's variables, refusals that name them, keys never shown."""

from __future__ import annotations

import base64

import pytest

from service.settings import DEVELOPMENT_TOKEN_KEY, Settings, SettingsError

KEY = base64.b64encode(bytes(range(32))).decode()


def test_the_defaults_are_a_local_sqlite_file_in_development() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///var/protection-orders.db"
    assert settings.policy_file is None
    assert (settings.sweep_seconds, settings.projection_poll_seconds) == (60.0, 0.5)
    assert (settings.checkpoint_seconds, settings.detect_seconds) == (60.0, 5.0)
    assert settings.checkpoint_events == 1000
    assert not settings.production
    assert settings.token_key.get_secret_value() == DEVELOPMENT_TOKEN_KEY
    assert settings.encryption_key is None
    assert settings.signing_key_bytes() is None


def test_every_variable_is_read_with_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "DATABASE_URL": "sqlite:///elsewhere.db",
        "POLICY": "drill.toml",
        "SWEEP_SECONDS": "2",
        "PROJECTION_POLL_SECONDS": "0.1",
        "ENV": "production",
        "TOKEN_KEY": "t" * 40,
        "ENCRYPTION_KEY": KEY,
        "SIGNING_KEY": KEY,
        "CHECKPOINT_SECONDS": "30",
        "DETECT_SECONDS": "1.5",
    }.items():
        monkeypatch.setenv(f"PROTECTION_ORDERS_{name}", value)
    settings = Settings.from_env()
    assert settings.database_url == "sqlite:///elsewhere.db"
    assert str(settings.policy_file) == "drill.toml"
    assert (settings.sweep_seconds, settings.projection_poll_seconds) == (2.0, 0.1)
    assert (settings.checkpoint_seconds, settings.detect_seconds) == (30.0, 1.5)
    assert settings.production
    assert settings.token_key.get_secret_value() == "t" * 40
    assert settings.persistence_env()["CIPHER_KEY"] == KEY
    assert settings.signing_key_bytes() == bytes(range(32))


def test_keyword_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_SWEEP_SECONDS", "9")
    assert Settings(sweep_seconds=0.2).sweep_seconds == 0.2
    assert Settings().sweep_seconds == 9.0


def test_a_given_mapping_is_read_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROTECTION_ORDERS_SWEEP_SECONDS", "9")
    assert Settings.from_env({"PROTECTION_ORDERS_DETECT_SECONDS": "2"}).sweep_seconds == 60.0


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SWEEP_SECONDS", "soon", "PROTECTION_ORDERS_SWEEP_SECONDS must be a positive number"),
        ("DETECT_SECONDS", "-1", "PROTECTION_ORDERS_DETECT_SECONDS must be a positive number"),
        ("CHECKPOINT_SECONDS", "0", "PROTECTION_ORDERS_CHECKPOINT_SECONDS must be a positive"),
        ("ENV", "staging", "PROTECTION_ORDERS_ENV must be development or production"),
    ],
)
def test_a_value_that_cannot_work_is_refused_naming_its_variable(
    variable: str, value: str, says: str
) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env({f"PROTECTION_ORDERS_{variable}": value})


def test_an_unknown_keyword_is_refused_listing_the_settings() -> None:
    with pytest.raises(SettingsError, match="sweep_minutes is not a setting"):
        Settings(sweep_minutes=1)  # type: ignore[call-arg]


def test_keys_are_never_shown() -> None:
    secret = "s3cr3t-" * 6
    settings = Settings(
        database_url="postgresql://orders:pa55word@db:5432/orders",
        token_key=secret,  # type: ignore[arg-type]
        encryption_key=KEY,  # type: ignore[arg-type]
        signing_key=KEY,  # type: ignore[arg-type]
    )
    for shown in (repr(settings), str(settings)):
        assert secret not in shown
        assert KEY not in shown
        assert "pa55word" not in shown
        assert "**********" in shown
    assert settings.database_location() == "postgresql://orders:***@db:5432/orders"


def test_a_refused_key_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"PROTECTION_ORDERS_SIGNING_KEY": "not-a-key-at-all"})
    assert "not-a-key-at-all" not in str(refused.value)
    assert "SIGNING_KEY must be base64 of a 32-byte Ed25519 private key" in str(refused.value)


def test_the_notification_channels_are_read_with_the_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "w" * 40
    for name, value in {
        "SMTP_HOST": "mail.internal",
        "SMTP_PORT": "2525",
        "SMTP_SENDER": "alerts@police.example",
        "WEBHOOK_URL": "https://gateway:pa55@sms.example/hook",
        "WEBHOOK_SECRET": secret,
        "DELIVER_SECONDS": "2",
        "DELIVER_RETRY_SECONDS": "5",
        "DELIVER_RETRY_MAX_SECONDS": "600",
    }.items():
        monkeypatch.setenv(f"PROTECTION_ORDERS_{name}", value)
    settings = Settings.from_env()
    assert (settings.smtp_host, settings.smtp_port) == ("mail.internal", 2525)
    assert settings.smtp_sender == "alerts@police.example"
    assert (settings.deliver_seconds, settings.deliver_retry_seconds) == (2.0, 5.0)
    assert settings.deliver_retry_max_seconds == 600.0
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret
    assert "pa55" not in repr(settings) and secret not in repr(settings)


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"WEBHOOK_URL": "https://sms.example/hook"}, "WEBHOOK_SECRET must be set"),
        (
            {"WEBHOOK_URL": "https://sms.example/hook", "WEBHOOK_SECRET": "short"},
            "at least 32 characters",
        ),
        ({"WEBHOOK_URL": "ftp://x", "WEBHOOK_SECRET": "w" * 40}, "http:// or https://"),
        ({"DELIVER_RETRY_SECONDS": "60", "DELIVER_RETRY_MAX_SECONDS": "30"}, "at least"),
        ({"SMTP_PORT": "70000"}, "PROTECTION_ORDERS_SMTP_PORT"),
    ],
)
def test_notification_settings_that_cannot_work_are_refused(
    given: dict[str, str], says: str
) -> None:
    with pytest.raises(SettingsError, match=says) as refused:
        Settings.from_env({f"PROTECTION_ORDERS_{k}": v for k, v in given.items()})
    assert "short" not in str(refused.value)  # a secret is never echoed


def test_the_witnesses_are_read_as_a_list_and_their_credentials_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings.from_env({}).witness_urls == []
    monkeypatch.setenv(
        "PROTECTION_ORDERS_WITNESS_URLS", "https://w1.example, http://po:hunter2@w2.example:8700"
    )
    settings = Settings()
    assert settings.witness_urls == ["https://w1.example", "http://po:hunter2@w2.example:8700"]
    assert (settings.witness_seconds, settings.witness_timeout_seconds) == (30.0, 10.0)
    assert "http://w2.example:8700" in repr(settings) and "hunter2" not in repr(settings)


def test_witness_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(SettingsError, match="WITNESS_URLS must be http:// or https://") as e:
        Settings.from_env({"PROTECTION_ORDERS_WITNESS_URLS": "ftp://po:hunter2@w.example"})
    assert "hunter2" not in str(e.value)
    with pytest.raises(SettingsError, match="WITNESS_TIMEOUT_SECONDS must be a number of sec"):
        Settings.from_env({"PROTECTION_ORDERS_WITNESS_TIMEOUT_SECONDS": "600"})
