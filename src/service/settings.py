"""Settings from the environment: one database URL picks SQLite or PostgreSQL."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PREFIX = "PROTECTION_ORDERS_"
DEVELOPMENT_TOKEN_KEY = "development-only-key-never-use-in-production-0000"
NEW_KEY = "`python -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())'`"


def _key_bytes(key: SecretStr) -> int:
    try:
        return len(base64.b64decode(key.get_secret_value(), validate=True))
    except (binascii.Error, ValueError):
        return -1


class SettingsError(Exception):
    """A setting has a value the service cannot use; the message says which and what to do."""


class Settings(BaseSettings):
    """Everything the composition root needs to build the service.

    `Settings()` reads the `PROTECTION_ORDERS_*` environment variables; keyword arguments
    override them. Keys are `SecretStr`: printed as `**********`, read with
    `get_secret_value()` only where they are used.
    """

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,
        validate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    database_url: str = "sqlite:///var/protection-orders.db"
    policy_file: Path | None = Field(default=None, validation_alias=PREFIX + "POLICY")
    sweep_seconds: float = Field(default=60.0, gt=0)
    projection_poll_seconds: float = Field(default=0.5, gt=0)
    env: Literal["development", "production"] = "development"
    token_key: SecretStr = SecretStr(DEVELOPMENT_TOKEN_KEY)
    token_max_hours: float = Field(default=12.0, gt=0)  # a bearer token lives no longer
    encryption_key: SecretStr | None = None
    signing_key: SecretStr | None = None
    owner_database_url: SecretStr | None = None  # PostgreSQL: the role that owns the tables
    create_tables: bool = True  # false: `migrate` made them, as their owner
    database_wait_seconds: int = Field(default=10, ge=1, le=300)  # then 503: retry
    checkpoint_seconds: float = Field(default=60.0, gt=0)  # sign at least this often...
    checkpoint_events: int = Field(default=1000, gt=0)  # ...or once this many events are new
    detect_seconds: float = Field(default=5.0, gt=0)
    store_check_seconds: float = Field(default=3600.0, gt=0)  # verify the whole store this often
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "protection-orders@localhost"
    webhook_url: SecretStr | None = None  # may carry credentials: never printed
    webhook_secret: SecretStr | None = None
    deliver_seconds: float = Field(default=5.0, gt=0)
    deliver_retry_seconds: float = Field(default=10.0, gt=0)
    deliver_retry_max_seconds: float = Field(default=300.0, gt=0)
    witness_urls: Annotated[list[str], NoDecode] = []  # may carry credentials: never printed
    witness_seconds: float = Field(default=30.0, gt=0)
    witness_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    http_request_seconds: float = Field(default=10.0, gt=0)  # to read one request, head and body
    http_max_connections: int = Field(default=1000, gt=0)  # past this, requests get 503
    orders_in_memory: int = Field(default=10_000, ge=0)  # orders read lately, kept (0: none)

    @field_validator("witness_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        """A comma- or space-separated list, as an environment variable gives it."""
        return value.replace(",", " ").split() if isinstance(value, str) else value

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_variable(cls, values: Any, handler: Callable[[Any], Settings]) -> Settings:
        """Refuse a value pydantic cannot use with a SettingsError naming its variable."""
        try:
            return handler(values)
        except ValidationError as e:
            raise SettingsError("; ".join(_explain(error) for error in e.errors())) from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the process environment (or from `environ` alone), checked."""
        if environ is None:
            settings = cls()
        else:  # every field given, so the process environment is not read
            values: dict[str, Any] = {
                name: environ.get(variable) or cls.model_fields[name].default
                for name, variable in variables().items()
            }
            settings = cls(**values)
        settings.check()
        return settings

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def token_max_lifetime(self) -> timedelta:
        return timedelta(hours=self.token_max_hours)

    def check(self) -> None:
        """Refuse settings that would be unsafe, or keys that cannot work."""
        if self.encryption_key is not None and _key_bytes(self.encryption_key) not in (16, 24, 32):
            raise SettingsError(
                f"{PREFIX}ENCRYPTION_KEY must be base64 of 16, 24 or 32 random bytes, "
                f"e.g. from {NEW_KEY}"
            )
        if self.signing_key is not None and _key_bytes(self.signing_key) != 32:
            raise SettingsError(
                f"{PREFIX}SIGNING_KEY must be base64 of a 32-byte Ed25519 private key, "
                f"e.g. from {NEW_KEY}"
            )
        token_key = self.token_key.get_secret_value()
        if self.production and (token_key == DEVELOPMENT_TOKEN_KEY or len(token_key) < 32):
            raise SettingsError(
                f"in production {PREFIX}TOKEN_KEY must be set to a secret of at least 32 "
                "characters (e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        if self.webhook_url is not None:
            scheme = urlsplit(self.webhook_url.get_secret_value()).scheme
            if scheme not in ("http", "https"):
                raise SettingsError(f"{PREFIX}WEBHOOK_URL must be an http:// or https:// URL")
            secret = self.webhook_secret
            if secret is None or len(secret.get_secret_value()) < 32:
                raise SettingsError(
                    f"{PREFIX}WEBHOOK_SECRET must be set to a secret of at least 32 characters "
                    "when WEBHOOK_URL is: the receiver checks each message's signature with it"
                )
        for url in self.witness_urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise SettingsError(
                    f"{PREFIX}WITNESS_URLS must be http:// or https:// URLs of witnesses, "
                    "separated by commas (e.g. https://witness.prosecutor.example:8700)"
                )
        if self.owner_database_url is not None and not self.database_url.startswith("postgres"):
            raise SettingsError(
                f"{PREFIX}OWNER_DATABASE_URL is for PostgreSQL only: unset it, or point "
                f"{PREFIX}DATABASE_URL at PostgreSQL"
            )
        if self.deliver_retry_max_seconds < self.deliver_retry_seconds:
            raise SettingsError(
                f"{PREFIX}DELIVER_RETRY_MAX_SECONDS must be at least DELIVER_RETRY_SECONDS"
            )
        if self.production and self.signing_key is None:
            raise SettingsError(
                f"in production {PREFIX}SIGNING_KEY must be set: it signs the "
                "checkpoints prosecutors verify"
            )

    def signing_key_bytes(self) -> bytes | None:
        if self.signing_key is None:
            return None
        return base64.b64decode(self.signing_key.get_secret_value())

    def database_location(self) -> str:
        """The database URL without its password, fit to print."""
        url = urlsplit(self.database_url)
        if url.password is None:
            return self.database_url
        host = url.netloc.rsplit("@", 1)[1]
        return url._replace(netloc=f"{url.username}:***@{host}").geturl()

    def persistence_env(self) -> dict[str, str]:
        """The eventsourcing library's settings: the database, and encryption if keyed."""
        env = self._database_env() | {"AGGREGATE_CACHE_MAXSIZE": str(self.orders_in_memory)}
        if self.encryption_key is not None:
            env |= {
                "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                "CIPHER_KEY": self.encryption_key.get_secret_value(),
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
                "SQLITE_LOCK_TIMEOUT": str(self.database_wait_seconds),  # its busy timeout
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
                # What a request may wait for: a lock, a pooled connection (the library's
                # "connect timeout" is the pool's wait; storage.postgres also gives it to
                # libpq for each new connection). Pooled connections are checked before use,
                # so none cut by a database restart is handed out.
                "POSTGRES_LOCK_TIMEOUT": str(self.database_wait_seconds),
                "POSTGRES_CONNECT_TIMEOUT": str(self.database_wait_seconds),
                "POSTGRES_PRE_PING": "yes",
            }
        raise SettingsError(
            f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql://, "
            f"not {url.scheme or 'nothing'}:// (e.g. sqlite:///var/orders.db)"
        )

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name == "database_url":
                yield name, self.database_location()
            elif name == "witness_urls":  # a witness's URL may carry its credentials
                yield name, [without_credentials(url) for url in value]
            else:
                yield name, value


def without_credentials(url: str) -> str:
    """A URL fit to print: no user or password, no query or fragment."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=host, query="", fragment="").geturl()


def variables() -> dict[str, str]:
    """Each setting's environment variable, by the setting's name."""
    return {
        name: field.validation_alias
        if isinstance(field.validation_alias, str)
        else PREFIX + name.upper()
        for name, field in Settings.model_fields.items()
    }


SHOWN = {
    "database_wait_seconds",
    "sweep_seconds",
    "projection_poll_seconds",
    "checkpoint_seconds",
    "checkpoint_events",
    "detect_seconds",
    "store_check_seconds",
    "env",
    "token_max_hours",
    "smtp_host",
    "smtp_port",
    "deliver_seconds",
    "deliver_retry_seconds",
    "deliver_retry_max_seconds",
    "witness_seconds",
    "witness_timeout_seconds",
    "http_request_seconds",
    "http_max_connections",
}
"""Settings whose refused value may be echoed; keys and the database URL never are."""


def _explain(error: ErrorDetails) -> str:
    """One refused value as a sentence: the variable, what it must be; no secret echoed."""
    given = str(error["loc"][0]) if error["loc"] else ""
    name = next((n for n, v in variables().items() if given in (n, v)), None)
    if name is None:
        return f"{given} is not a setting; the settings are {', '.join(variables().values())}"
    shown = f", not {error['input']!r}" if name in SHOWN else ""
    if name == "env":
        return f"{variables()[name]} must be development or production{shown}"
    if name == "witness_timeout_seconds":
        return f"{variables()[name]} must be a number of seconds above 0, at most 60{shown}"
    if name.endswith("_seconds"):
        return f"{variables()[name]} must be a positive number of seconds{shown}"
    if name.endswith("_hours"):
        return f"{variables()[name]} must be a positive number of hours{shown}"
    return f"{variables()[name]}: {error['msg']}{shown}"
