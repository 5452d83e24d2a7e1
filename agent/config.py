"""skillgrove's settings: one typed tree, read from flags > environment > config file > defaults.

The tree has one section per concern (`llm`, `policy`, `library`). A section is a pydantic model whose
fields all have defaults; adding one is its model plus one line in `Settings`, and it gets
environment variables and config-file keys without more code. Where a value comes from:

- flags: `load_settings(home, flags={"llm": {"model": "openai:gpt-4o"}})`, what the user
  typed on the command line (None means "not given");
- environment: `SKILLGROVE_<SECTION>_<FIELD>`, e.g. `SKILLGROVE_LLM_TIMEOUT=300`; a section
  may give one field the short name `SKILLGROVE_<SECTION>` (`SKILLGROVE_LLM` is `llm.model`);
- the config file: `<home>/config.toml` (or `config.json` when there is no TOML), one table
  per section::

      [llm]
      model = "openai:qwen2.5-coder"
      base_url = "http://localhost:8000/v1"
      timeout = 300

  The flat keys of earlier versions still work (`llm = "openai:..."`, `llm_base_url`,
  `llm_timeout`);
- defaults: the models' field defaults.

A file that is not TOML/JSON, an unknown key, or a value of the wrong type raises
`ConfigError`: one line naming the file (or variable, or flag) and the key.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agent.errors import AgentError
from agent.policy.settings import Optim

ENV_PREFIX = "SKILLGROVE_"
CONFIG_FILES = ("config.toml", "config.json")  # the first that exists is read
MAX_TIMEOUT = 3600.0  # the largest LLM request timeout a config may set
DEFAULT_LLM_TIMEOUT = 120.0  # seconds per LLM request; local models on a CPU are slow
DEFAULT_LLM_RETRIES = 3  # retries of transient LLM failures per call


class ConfigError(AgentError):
    """A setting that cannot be used; the message is one line naming where it came from."""


class Section(BaseModel):
    """Base of every settings section: typed fields with defaults, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env_short: ClassVar[str | None] = None  # the field `SKILLGROVE_<SECTION>` alone sets
    env_aliases: ClassVar[dict[str, str]] = {}  # field -> another variable that sets it
    flag_names: ClassVar[dict[str, str]] = {}  # field -> its flag, when not --<section>-<field>
    legacy_keys: ClassVar[dict[str, str]] = {}  # flat top-level file keys of old versions -> field


class LLMSettings(Section):
    """Which chat model to use and how long to wait for it (`agent.llm`)."""

    env_short: ClassVar[str | None] = "model"
    legacy_keys: ClassVar[dict[str, str]] = {"llm_base_url": "base_url", "llm_timeout": "timeout"}

    model: str | None = None  # "openai:MODEL", "ollama:MODEL", "hf:/dir"; None/"offline": no LLM
    base_url: str | None = None  # an OpenAI-compatible or Ollama server
    timeout: float = DEFAULT_LLM_TIMEOUT  # seconds per request
    retries: int = Field(
        default=DEFAULT_LLM_RETRIES, ge=0, le=20
    )  # retries of transient failures per call

    @field_validator("model", "base_url", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("model")
    @classmethod
    def _known_spec(cls, value: str | None) -> str | None:
        from agent.llm.spec import OFFLINE_SPECS, parse_spec

        if value is not None and value.lower() not in OFFLINE_SPECS:
            try:
                parse_spec(value)
            except AgentError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float:
        return check_seconds(value)


def check_seconds(value: Any) -> float:
    """A timeout in seconds: a finite number in (0, MAX_TIMEOUT]; else ValueError("must be ...")."""
    try:
        if isinstance(value, bool):
            raise TypeError
        seconds = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses nan and inf
        shown = " ".join(repr(value).split())[:40]
        raise ValueError(f"must be a number of seconds in (0, {MAX_TIMEOUT:g}], got {shown}")
    return seconds


class PolicySettings(Section, Optim):
    """The pose policy's optimisation defaults (`agent.policy.settings.Optim`): `[policy]` lr,
    batch_size, clip, seed and threads become the defaults of `skillgrove policy ...`."""


class LibrarySettings(Section):
    """Where the skill library lives (`skills.library.open_library`): `store_url` a Postgres
    store shared by machines (default: the data home's SQLite file; also
    $SKILLGROVE_STORE_URL), `url` a Chroma server for its index (default: an index file in
    the data home; also $SKILLGROVE_LIBRARY_URL)."""

    env_aliases: ClassVar[dict[str, str]] = {"store_url": "SKILLGROVE_STORE_URL"}
    flag_names: ClassVar[dict[str, str]] = {"store_url": "--store-url"}

    store_url: str | None = None  # postgresql+psycopg://user:password@host:port/database
    url: str | None = None  # http://host:port of a `chroma run` server

    @field_validator("store_url", "url", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("store_url")
    @classmethod
    def _postgres(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith("postgresql"):
            raise ValueError(
                "must be a Postgres URL, postgresql+psycopg://user:password@host:port/database"
            )
        return value


class Settings(BaseSettings):
    """The whole tree. `load_settings` builds it; `Settings()` reads kwargs > env > defaults."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)

    llm: LLMSettings = Field(default_factory=LLMSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)

    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, Layer(settings_cls, "env", env_values(os.environ))

    def origin(self, key: str) -> str:
        """Where a value came from: "flag", "env", "config" or "default" (key: "llm.model")."""
        return self._origins.get(key, "default")


class Layer(PydanticBaseSettingsSource):
    """One source of settings (flags, environment, a file), already checked section by section."""

    def __init__(self, settings_cls: type[BaseSettings], name: str, values: dict) -> None:
        super().__init__(settings_cls)
        self.name = name
        self.values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self.values


def sections() -> dict[str, type[Section]]:
    """The sections of `Settings` by name."""
    return {name: f.annotation for name, f in Settings.model_fields.items()}  # type: ignore[misc]


def load_settings(
    home: str | Path | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Read the settings: flags, then `SKILLGROVE_*` variables, then `<home>/config.toml`.

    Args:
        home: the data home holding `config.toml` or `config.json` (None: no file).
        flags: values from the command line by section and field; None values are "not given".
        env: the environment (default `os.environ`).

    Raises:
        ConfigError: one line naming the file, variable or flag and the key at fault.
    """
    layers = [
        Layer(Settings, "flag", flag_values(flags or {})),
        Layer(Settings, "env", env_values(os.environ if env is None else env)),
        Layer(Settings, "config", file_values(Path(home)) if home is not None else {}),
    ]
    settings = Settings(_build_sources=(tuple(layers), {}))
    for layer in reversed(layers):  # the highest layer that sets a key names its origin
        for section, values in layer.values.items():
            settings._origins.update({f"{section}.{key}": layer.name for key in values})
    return settings


def library_settings(
    home: str | Path | None, url: str | None = None, store_url: str | None = None
) -> LibrarySettings:
    """Where the library of `home` lives: the flags `--library-url`/`--store-url` given
    (None: not given), else the environment, else `[library]` in the home's config file."""
    return load_settings(home, flags={"library": {"url": url, "store_url": store_url}}).library


def flag_values(flags: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Command-line values, checked; a flag is named `--<section>[-<field>]` in errors."""
    out: dict[str, dict[str, Any]] = {}
    for name, values in flags.items():
        cls = _section(name, f"flags for {name!r}")
        given = {k: v for k, v in values.items() if v is not None and str(v).strip()}
        names = {
            k: cls.flag_names.get(k)
            or (f"--{name}" if k == cls.env_short else f"--{name}-{k.replace('_', '-')}")
            for k in given
        }
        out[name] = _checked(cls, given, names.__getitem__)
    return {k: v for k, v in out.items() if v}


def env_values(env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """`SKILLGROVE_<SECTION>_<FIELD>` (and `SKILLGROVE_<SECTION>` for the short field), checked."""
    out: dict[str, dict[str, Any]] = {}
    for name, cls in sections().items():
        names: dict[str, str] = {}
        if cls.env_short and (env.get(f"{ENV_PREFIX}{name}".upper()) or "").strip():
            names[cls.env_short] = f"{ENV_PREFIX}{name}".upper()
        for key, var in cls.env_aliases.items():  # the section's own name wins (below)
            if (env.get(var) or "").strip():
                names[key] = var
        for key in cls.model_fields:
            var = f"{ENV_PREFIX}{name}_{key}".upper()
            if (env.get(var) or "").strip():
                names[key] = var
        if names:
            given = {key: env[var] for key, var in names.items()}
            out[name] = _checked(cls, given, names.__getitem__)
    return out


def file_values(home: Path) -> dict[str, dict[str, Any]]:
    """The sections in `<home>/config.toml` (or `config.json`), checked; {} when there is none."""
    path = next((home / n for n in CONFIG_FILES if (home / n).is_file()), None)
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"cannot read {path}: expected a table of settings")
    known = sections()
    raw: dict[str, dict[str, Any]] = {}
    names: dict[tuple[str, str], str] = {}  # (section, field) -> the key as the file spells it
    for key, value in data.items():
        legacy = next(((s, c) for s, c in known.items() if key in c.legacy_keys), None)
        if legacy is not None:
            section, field = legacy[0], legacy[1].legacy_keys[key]
            raw.setdefault(section, {})[field] = value
            names[section, field] = key
        elif key not in known:
            choices = ", ".join(known)  # as `Settings` declares them
            raise ConfigError(f"unknown key {key!r} in {path} (sections: {choices})")
        elif isinstance(value, dict):
            for field, v in value.items():
                raw.setdefault(key, {})[field] = v
                names[key, field] = f"{key}.{field}"
        elif known[key].env_short is not None and isinstance(value, str):
            raw.setdefault(key, {})[known[key].env_short] = value
            names[key, known[key].env_short] = key
        else:
            shown = " ".join(repr(value).split())[:40]
            raise ConfigError(f"{key} in {path} must be a table of settings, got {shown}")
    return {
        s: _checked(known[s], values, lambda f, s=s: f"{names.get((s, f), f'{s}.{f}')} in {path}")
        for s, values in raw.items()
    }


def _section(name: str, where: str) -> type[Section]:
    known = sections()
    if name not in known:
        raise ConfigError(f"{where}: no settings section {name!r} ({', '.join(sorted(known))})")
    return known[name]


def _checked(cls: type[Section], given: dict[str, Any], where: Any) -> dict[str, Any]:
    """Validate the keys one source gives for a section; the typed values, or one line."""
    try:
        model = cls.model_validate(given)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        if err["type"] == "extra_forbidden":
            known = ", ".join(cls.model_fields)
            raise ConfigError(f"unknown key {where(key)} (known: {known})") from None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "value_error":  # our validators' messages are whole sentences
            raise ConfigError(
                f"{where(key)}{' ' if msg.startswith('must ') else ': '}{msg}"
            ) from None
        shown = " ".join(repr(err.get("input")).split())[:40]
        raise ConfigError(f"{where(key)}: {msg[:1].lower()}{msg[1:]}, got {shown}") from None
    return {key: getattr(model, key) for key in given}
