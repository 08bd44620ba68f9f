"""Settings in one typed object, read from the environment (prefix ``RAILWATCH_``)
when the object is made, never at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide settings. ``Settings()`` reads ``RAILWATCH_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="RAILWATCH_", extra="ignore")

    db: str = Field(
        default="sqlite:///railwatch.db",
        description="SQLAlchemy database URL (SQLite file by default, or postgresql://...).",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "railwatch",
        description="Where rendered demo imagery and other caches are kept.",
    )
    usable_threshold: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="Minimum clear fraction of the site for a scene to be counted.",
    )
    api_token: SecretStr | None = Field(
        default=None, description="Token required by the web API for every write."
    )
    require_services: bool = Field(
        default=False, description="Tests: fail instead of skipping when a service is missing."
    )


def get_settings(**overrides: object) -> Settings:
    """Make a fresh :class:`Settings`, reading the environment now."""
    return Settings(**overrides)  # type: ignore[arg-type]
