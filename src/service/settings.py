"""Settings from the environment: one database URL picks SQLite or PostgreSQL."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

PREFIX = "PROTECTION_ORDERS_"
DEVELOPMENT_TOKEN_KEY = "development-only-key-never-use-in-production-0000"


def _key_bytes(key: str) -> int:
    try:
        return len(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError):
        return -1


class SettingsError(Exception):
    """A setting has a value the service cannot use; the message says which and what to do."""


@dataclass(frozen=True)
class Settings:
    """Everything the composition root needs to build the service."""

    database_url: str = "sqlite:///var/protection-orders.db"
    policy_file: Path | None = None
    sweep_seconds: float = 60.0
    projection_poll_seconds: float = 0.5
    production: bool = False
    token_key: str = DEVELOPMENT_TOKEN_KEY
    encryption_key: str | None = None
    signing_key: str | None = None
    checkpoint_seconds: float = 300.0
    detect_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if url := env.get(PREFIX + "DATABASE_URL"):
            values["database_url"] = url
        if policy := env.get(PREFIX + "POLICY"):
            values["policy_file"] = Path(policy)
        if key := env.get(PREFIX + "TOKEN_KEY"):
            values["token_key"] = key
        if key := env.get(PREFIX + "ENCRYPTION_KEY"):
            values["encryption_key"] = key
        if key := env.get(PREFIX + "SIGNING_KEY"):
            values["signing_key"] = key
        mode = env.get(PREFIX + "ENV", "development")
        if mode not in ("development", "production"):
            raise SettingsError(f"{PREFIX}ENV must be development or production, not {mode!r}")
        values["production"] = mode == "production"
        for name in (
            "sweep_seconds",
            "projection_poll_seconds",
            "checkpoint_seconds",
            "detect_seconds",
        ):
            if raw := env.get(PREFIX + name.upper()):
                try:
                    values[name] = float(raw)
                except ValueError:
                    raise SettingsError(
                        f"{PREFIX}{name.upper()} must be a number of seconds, not {raw!r}"
                    ) from None
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would be unsafe, or keys that cannot work."""
        if self.encryption_key is not None and _key_bytes(self.encryption_key) not in (16, 24, 32):
            raise SettingsError(
                f"{PREFIX}ENCRYPTION_KEY must be base64 of 16, 24 or 32 random bytes, e.g. from "
                "`python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'`"
            )
        if self.signing_key is not None and _key_bytes(self.signing_key) != 32:
            raise SettingsError(
                f"{PREFIX}SIGNING_KEY must be base64 of a 32-byte Ed25519 private key, e.g. from "
                "`python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'`"
            )
        if self.production and (
            self.token_key == DEVELOPMENT_TOKEN_KEY or len(self.token_key) < 32
        ):
            raise SettingsError(
                f"in production {PREFIX}TOKEN_KEY must be set to a secret of at least 32 "
                "characters (e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        if self.production and self.signing_key is None:
            raise SettingsError(
                f"in production {PREFIX}SIGNING_KEY must be set: it signs the "
                "checkpoints prosecutors verify"
            )

    def signing_key_bytes(self) -> bytes | None:
        return None if self.signing_key is None else base64.b64decode(self.signing_key)

    def persistence_env(self) -> dict[str, str]:
        """The eventsourcing library's settings: the database, and encryption if keyed."""
        env = self._database_env()
        if self.encryption_key:
            env |= {
                "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                "CIPHER_KEY": self.encryption_key,
            }
        return env

    def _database_env(self) -> dict[str, str]:
        url = urlsplit(self.database_url)
        if url.scheme == "sqlite":
            path = Path(unquote(url.path[1:]))  # sqlite:///relative, sqlite:////absolute
            path.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "storage.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        if url.scheme in ("postgresql", "postgres"):
            return {
                "PERSISTENCE_MODULE": "storage.postgres",
                "POSTGRES_DBNAME": url.path.lstrip("/"),
                "POSTGRES_HOST": url.hostname or "localhost",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or ""),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_POOL_SIZE": "4",
                "POSTGRES_MAX_OVERFLOW": "12",
                "POSTGRES_LOCK_TIMEOUT": "10",
                "POSTGRES_CONNECT_TIMEOUT": "10",
            }
        raise SettingsError(
            f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql://, "
            f"not {url.scheme or 'nothing'}:// (e.g. sqlite:///var/orders.db)"
        )
