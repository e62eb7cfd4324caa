"""Every setting, read once from PORTAL_* environment variables."""

from __future__ import annotations

import hashlib
import hmac
import json
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from portal_gateway.models.enums import ApiKeyMode

# Development-only secrets: refused in live mode, so they can never sign a real session.
_DEV_SECRET = "portal-gateway-development-secret-not-for-live-use"  # noqa: S105


def _weak(secret: str) -> bool:
    """Too short to sign with (white space does not count), or the development value
    everybody can read here."""
    return secret == _DEV_SECRET or len(secret.strip().encode()) < 32


def _listening_url(host: str, port: int) -> str:
    """The URL of `serve` on this machine: a wildcard address is reached on loopback."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104  (recognising it, not binding to it)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _key_ring(value: SecretStr, name: str) -> dict[str, str]:
    """A JSON object {kid: secret} of 32+ byte secrets, in its order (the first signs)."""
    try:
        keys = json.loads(value.get_secret_value())
    except ValueError:
        keys = None
    if not isinstance(keys, dict) or not keys:
        raise ValueError(f"{name}: a JSON object {{kid: secret}}")
    for kid, secret in keys.items():
        if not isinstance(secret, str) or len(secret.encode()) < 32:
            raise ValueError(f"{name}[{kid!r}]: a string of 32+ bytes")
    return {str(kid): str(secret) for kid, secret in keys.items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    # test or live: which API keys open the door, and how strict the rest is.
    mode: ApiKeyMode = ApiKeyMode.TEST
    database_url: str = "sqlite+aiosqlite:///./portal.db"
    # Where this service is reached; links are built from it. Unset: where `serve` listens.
    public_url: str = ""
    frontend_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    # Secrets are SecretStr: a settings object that is printed or logged shows "**********".
    secret_key: SecretStr = SecretStr(_DEV_SECRET)
    # JSON object {kid: secret}; the first entry signs, every entry verifies,
    # so a new key can be added in front and an old one dropped a session later.
    jwt_keys: SecretStr | None = None
    # JSON object {kid: secret} that signs invoices' PDF links, apart from the session keys,
    # rotated the same way. Unset in test mode: a key derived from PORTAL_SECRET_KEY.
    document_keys: SecretStr | None = None
    document_link_ttl_seconds: int = Field(default=600, ge=30, le=7 * 86400)
    # Where the fixed-weight fonts made from the packaged variable fonts are kept.
    font_cache_dir: str = "~/.cache/portal-gateway/fonts"
    session_ttl_seconds: int = Field(default=12 * 3600, ge=60, le=30 * 86400)
    graphiql: bool | None = None
    introspection: bool | None = None
    db_pool_size: int = 10
    # asyncpg's prepared-statement cache per connection: 0 behind PgBouncer in transaction
    # mode. And PostgreSQL's plan_cache_mode for our sessions (None: the server's default).
    db_statement_cache_size: int = Field(default=100, ge=0)
    db_plan_cache_mode: Literal["auto", "force_custom_plan", "force_generic_plan"] | None = None
    # On PostgreSQL, queries whose selections compile skip the resolvers (issue 13); off,
    # every read goes through Strawberry, the reference.
    compiled_reads: bool = True
    # Larger request bodies are refused (413) before they are read whole.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    log_level: str = "INFO"

    # Email: console (default; refused in live mode), file (one .eml per message) or smtp.
    email_backend: Literal["console", "file", "smtp"] = "console"
    email_dir: str = "./outbox"
    email_from: str = "Billing Portal <no-reply@portal.example>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    outbox_poll_seconds: float = Field(default=1.0, gt=0)

    # The payment processor. Test mode defaults to the test processor; live mode must name
    # one (and the test processor, named in live mode, refuses every card).
    payment_processor: Literal["test"] | None = None
    # Every processor call gives up after this; well under reconcile's 2-minute grace.
    processor_timeout_seconds: float = Field(default=20.0, gt=0, le=60)

    # How often each process looks for subscriptions to renew.
    renew_every_seconds: float = Field(default=300.0, gt=0)

    # Rate limits ("N/second|minute|hour|day"); counters in Redis when redis_url is set,
    # so that every process shares one budget.
    redis_url: str | None = None
    sign_in_link_limit_per_email: str = "5/hour"
    sign_in_link_limit_per_client: str = "30/hour"
    sign_in_limit_per_client: str = "60/hour"
    # Adding or changing a card, per portal session and per customer account: card testing
    # (trying stolen numbers one after another) is the attack.
    card_limit_per_session: str = "10/hour"
    card_limit_per_account: str = "30/day"

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("public_url", "frontend_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _safe_to_run(self) -> Settings:
        """Every missing or unsafe setting, named at once (the CLI prints them, one a line)."""
        if not self.public_url:
            self.public_url = _listening_url(self.host, self.port)
        problems = []
        if {"*", "null"} & set(self.cors_origins):
            problems.append(
                "PORTAL_CORS_ORIGINS: '*' or 'null' (what sandboxed frames and files send) "
                "would let any page read a signed-in customer's data; list the front end's "
                "origins"
            )
        try:
            keys = self.signing_keys
        except ValueError as error:
            problems.append(str(error))
            keys = {}
        try:
            document_keys = self.document_signing_keys
        except ValueError as error:
            problems.append(str(error))
            document_keys = {}
        if self.is_live:
            if _weak(self.secret_key.get_secret_value()):
                problems.append(
                    "PORTAL_SECRET_KEY: live mode needs 32+ bytes of your own "
                    "(the development value is public)"
                )
            if not self.jwt_keys:
                problems.append("PORTAL_JWT_KEYS: live mode needs signing keys of your own")
            problems += [
                f"PORTAL_JWT_KEYS[{kid!r}]: live mode needs 32+ bytes of your own, apart "
                "from PORTAL_SECRET_KEY"
                for kid, secret in keys.items()
                if self.jwt_keys and (_weak(secret) or secret == self.secret_key.get_secret_value())
            ]
            if not self.document_keys:
                problems.append(
                    "PORTAL_DOCUMENT_KEYS: live mode needs keys of your own for invoice links"
                )
            others = {self.secret_key.get_secret_value(), *keys.values()}
            problems += [
                f"PORTAL_DOCUMENT_KEYS[{kid!r}]: live mode needs 32+ bytes of your own, apart "
                "from PORTAL_SECRET_KEY and PORTAL_JWT_KEYS"
                for kid, secret in document_keys.items()
                if self.document_keys and (_weak(secret) or secret in others)
            ]
            problems += [
                f"PORTAL_CORS_ORIGINS: {origin!r} is not https"
                for origin in self.cors_origins
                if origin not in ("*", "null") and not origin.startswith("https://")
            ]
            if not self.public_url.startswith("https://"):
                problems.append("PORTAL_PUBLIC_URL: live mode needs an https URL")
            if self.payment_processor is None:
                problems.append("PORTAL_PAYMENT_PROCESSOR: live mode needs a processor")
            if self.email_backend == "console":
                problems.append("PORTAL_EMAIL_BACKEND: live mode needs smtp (or file)")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def is_live(self) -> bool:
        return self.mode is ApiKeyMode.LIVE

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_live

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_live

    @property
    def processor_name(self) -> str:
        return self.payment_processor or "test"

    @cached_property
    def signing_keys(self) -> dict[str, str]:
        """kid -> secret, the signing key first."""
        if not self.jwt_keys:
            return {"dev": self.secret_key.get_secret_value()}
        return _key_ring(self.jwt_keys, "PORTAL_JWT_KEYS")

    @cached_property
    def document_signing_keys(self) -> dict[str, str]:
        """kid -> secret for invoices' PDF links, the signing key first. Without
        PORTAL_DOCUMENT_KEYS (test mode only): one key derived from PORTAL_SECRET_KEY, so that
        a link's signature is never a session's."""
        if not self.document_keys:
            derived = hmac.new(
                self.secret_key.get_secret_value().encode(), b"invoice-documents", hashlib.sha256
            ).hexdigest()
            return {"dev": derived}
        return _key_ring(self.document_keys, "PORTAL_DOCUMENT_KEYS")

    @cached_property
    def font_cache_path(self) -> Path:
        return Path(self.font_cache_dir).expanduser()

    @property
    def link_base_url(self) -> str:
        """Where the links in emails and API answers point."""
        return self.frontend_url or self.public_url
