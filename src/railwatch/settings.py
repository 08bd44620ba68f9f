"""Settings in one typed object, read from the environment (prefix ``RAILWATCH_``)
when the object is made, never at import time."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
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

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _cache_dir_is_a_folder(cls, value: object) -> object:
        """Refuse an empty (or blank) ``RAILWATCH_CACHE_DIR``: ``Path("")`` is the current
        folder, so ``RAILWATCH_CACHE_DIR=`` silently cached the demo's imagery (and the
        web app's reports) in whatever folder a command ran from. An empty value is
        refused, not read as unset, as for the other variables: an empty ``RAILWATCH_DB``,
        ``RAILWATCH_USABLE_THRESHOLD`` or ``RAILWATCH_REQUIRE_SERVICES`` is an error too
        (an empty ``RAILWATCH_API_TOKEN`` is no token: writes disabled, as said).

        A leading ``~`` is the home folder, as in a shell: a value the shell does not
        expand (quoted, or set in a systemd unit, a Docker env file or a ``.env``) was
        a folder named ``~`` under the current one, shown as ``~/...`` as if it were
        home; ``~user`` of no user is refused."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("empty: give a folder")
        if isinstance(value, (str, Path)) and str(value).startswith("~"):
            try:
                return Path(value).expanduser()
            except RuntimeError as err:  # ~user of no user, or no home folder
                raise ValueError(str(err)) from None
        return value

    @field_validator("api_token", mode="before")
    @classmethod
    def _api_token_stripped(cls, value: object) -> object:
        """The token without spaces or line ends around it, and a blank one as none
        (writes disabled, as for an unset ``RAILWATCH_API_TOKEN``). A token set with a
        trailing space or newline (a ``.env`` or Docker env file, ``echo`` into a file
        read back) could never be matched: HTTP drops the spaces around a header's
        value and the server strips the bearer token it is sent, so every write was
        "the bearer token is wrong"; a blank one served on a public address with the
        writes said to "need the token" that nobody could give."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            return value.strip() or None
        return value


def get_settings(**overrides: object) -> Settings:
    """Make a fresh :class:`Settings`, reading the environment now."""
    return Settings(**overrides)  # type: ignore[arg-type]


#: What each setting that can be refused must be, as the error about its variable says.
SETTING_EXPECTED = {
    "usable_threshold": "a number from 0 to 1 (the clear fraction of a site a scene needs "
    "to be counted; the default is 0.8)",
    "require_services": "true or false (also 1/0, yes/no, on/off)",
    "cache_dir": "a folder path (where rendered demo imagery and the web app's reports are "
    "kept; the default is ~/.cache/railwatch)",
}


def refused_settings_message(err: ValidationError, environ: Mapping[str, str]) -> str:
    """The message of the error for the ``RAILWATCH_*`` variables of ``environ`` that
    :class:`Settings` refused (``err``): one line per variable, with its name as it is
    set (the names are read in any letter case), its value, what it must be, and "fix
    or unset it". The CLI (``CliState.settings``) and the web app's factory raise it as
    a ``ConfigError`` (this layer is below :mod:`railwatch.errors`)."""
    lines = []
    for problem in err.errors(include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else "?"
        wanted = f"RAILWATCH_{field.upper()}"
        names = [k for k in environ if k.upper() == wanted]
        name = next((k for k in names if environ[k] == problem["input"]), wanted)
        expected = SETTING_EXPECTED.get(field)
        why = f"is not {expected}" if expected else f"is refused: {problem['msg']}"
        lines.append(f"environment variable {name}={problem['input']!r} {why}: fix or unset it")
    return "\n".join(lines)
