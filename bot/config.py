"""Typed settings from `config.yaml` plus `COROBOT_*` environment overrides.

The Discord token is never a setting: it is read only from `DISCORD_TOKEN` (see `discord_token()`), and a
token found in the YAML is refused.  Nested settings are overridden with a double underscore, e.g.
`COROBOT_RUNNER__MAX_CONCURRENT=8` or `COROBOT_LOG_LEVEL=DEBUG`.  A `COROBOT_*` variable that names no
setting is ignored with a warning (and a "did you mean" for a likely typo); a setting's variable with a bad
value stops start-up with an error that names the variable.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from bot.core.errors import ConfigError, LessonError
from bot.core.review.cards import ScheduleSettings
from bot.core.review.service import LearningSettings
from bot.core.runner.limits import RunnerLimits
from bot.core.versions import normalize
from bot.core.yamlsource import describe_validation_error, load_yaml, rule_error

log = logging.getLogger(__name__)

ENV_PREFIX = "COROBOT_"
TOKEN_ENV = "DISCORD_TOKEN"
_TOKEN_KEYS = {"token", "discord_token", "bot_token"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RunnerSettings(_Section):
    timeout_default: float = Field(default=10.0, gt=0, description="seconds, when a lesson sets none")
    timeout_max: float = Field(default=60.0, gt=0, description="seconds; a lesson's timeout is capped here")
    output_bytes: int = Field(default=256 * 1024, ge=1024, description="stdout+stderr bytes per run")
    output_lines: int = Field(default=2000, ge=10, description="stdout+stderr lines per run")
    memory_mb: int = Field(
        default=256, ge=64, description="memory per run: its cgroup (RAM, tmpfs, shm); without cgroups RLIMIT_AS"
    )
    cpu_seconds: int = Field(default=10, ge=1, description="CPU time per run (RLIMIT_CPU)")
    processes: int = Field(default=64, ge=8, description="processes+threads per run (pids cgroup or RLIMIT_NPROC)")
    open_files: int = Field(default=64, ge=16, description="open file descriptors per run")
    file_size_mb: int = Field(default=8, ge=1, description="largest file a run may write (RLIMIT_FSIZE)")
    max_concurrent: int | None = Field(
        default=None, ge=1, description="simultaneous runs; null = 8 per CPU core (examples mostly sleep)"
    )
    per_user: int = Field(default=1, ge=1, description="running+queued examples per user")
    queue_size: int = Field(default=200, ge=1, description="waiting runs beyond which new ones are refused")
    sandbox: Literal["off", "auto", "required"] = Field(
        default="auto", description="bubblewrap: auto = use it when installed, warn once when not"
    )
    cgroups: Literal["off", "auto", "required"] = Field(
        default="auto", description="a cgroup per run (v2 or v1, as root or delegated); auto = when possible"
    )
    pythons: Literal["auto"] | list[str] = Field(
        default="auto",
        description="Python interpreters to run examples on besides corobot's own: versions (3.12) or paths; "
        "auto = every CPython >= 3.11 found (pyenv, python3.N on PATH); missing ones are listed as unavailable",
    )

    @field_validator("pythons")
    @classmethod
    def _interpreters(cls, value: Literal["auto"] | list[str]) -> Literal["auto"] | list[str]:
        for index, entry in enumerate(value if isinstance(value, list) else ()):
            if normalize(entry) is None and not entry.startswith("/"):
                reason = f"{entry!r} is neither a version (3.12) nor the absolute path of an interpreter"
                raise rule_error(reason, str(index))
        return value

    def concurrency(self) -> int:
        return self.max_concurrent or 8 * (os.cpu_count() or 1)

    def limits(self) -> RunnerLimits:
        """The plain values the runner is built from."""
        values = self.model_dump(exclude={"max_concurrent", "pythons"})
        pythons = self.pythons if self.pythons == "auto" else tuple(self.pythons)
        return RunnerLimits(max_concurrent=self.concurrency(), pythons=pythons, **values)


class RateLimit(_Section):
    runs: int = Field(default=5, ge=1)
    per_seconds: float = Field(default=60.0, gt=0)


class DiscordSettings(_Section):
    dev_guild_id: int | None = Field(default=None, description="sync commands to this guild only")
    admin_role_ids: list[int] = Field(default_factory=list)
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    edit_interval: float = Field(default=1.0, ge=0.2, description="seconds between live edits of a run")
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"


class StorageSettings(_Section):
    url: str | None = Field(
        default=None,
        pattern=r"^(sqlite|postgresql|postgres)://",
        description="sqlite:///PATH or postgresql://user@host/db; null = corobot.sqlite3 in data_dir",
    )
    busy_timeout: float = Field(default=5.0, gt=0, description="seconds a write waits for another's lock")


Seconds = Annotated[float, Field(gt=0, description="seconds")]


class ReviewSettings(_Section):
    mastery: float = Field(default=0.8, gt=0, le=1, description="share of questions right for a lesson to be done")
    desired_retention: float = Field(default=0.9, ge=0.7, le=0.97, description="FSRS: chance of recall when due")
    learning_steps: list[Seconds] = Field(default_factory=lambda: [600.0], description="new cards answered wrong")
    relearning_steps: list[Seconds] = Field(default_factory=lambda: [600.0], description="forgotten cards")
    maximum_interval: int = Field(default=365, ge=1, description="days a card may wait at most")
    fuzz: bool = Field(default=True, description="spread due dates a little (FSRS fuzzing)")
    session_size: int = Field(default=10, ge=1, le=25, description="cards per review")
    reminder_hour: int = Field(default=18, ge=0, le=23, description="local hour from which a daily reminder may go")
    log_days: int | None = Field(default=365, ge=7, description="days the answer log is kept; null = until forget-me")
    reminder_interval: float = Field(default=300.0, ge=1, description="seconds between checks for reminders to send")
    reminder_spacing: float = Field(default=1.0, ge=0, description="seconds between two reminder messages")

    def learning(self) -> LearningSettings:
        """The core's settings (`bot.core.review.service.LearningSettings`) from these."""
        schedule = ScheduleSettings(
            desired_retention=self.desired_retention,
            learning_steps=tuple(self.learning_steps),
            relearning_steps=tuple(self.relearning_steps),
            maximum_interval=self.maximum_interval,
            fuzz=self.fuzz,
        )
        return LearningSettings(
            mastery=self.mastery,
            schedule=schedule,
            session_size=self.session_size,
            reminder_hour=self.reminder_hour,
            log_days=self.log_days,
        )


class Settings(_Section):
    lessons_dir: Path = Path("lessons")
    data_dir: Path = Path("data")
    locale: str = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)


def discord_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The token, only ever from the environment; never log the return value."""
    value = (environ if environ is not None else os.environ).get(TOKEN_ENV, "").strip()
    return value or None


def _find_token_keys(data: Any, path: str = "") -> str | None:
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).lower() in _TOKEN_KEYS:
                return here
            found = _find_token_keys(value, here)
            if found:
                return found
    return None


def _env_names(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> list[str]:
    """Every variable that names a setting: each leaf, and each section (a JSON object)."""
    names: list[str] = []
    for name, info in model.model_fields.items():
        variable = prefix + name.upper()
        names.append(variable)
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            names.extend(_env_names(info.annotation, variable + "__"))
    return names


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings `COROBOT_*` variables override.  A variable that names no setting is not an error --
    deployments carry unrelated variables with the same prefix -- so it is ignored with a warning that
    names it (and the setting it was probably meant to be)."""
    known = set(_env_names())
    overrides: dict[str, Any] = {}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if name.upper() not in known:
            if any(part in _TOKEN_KEYS for part in parts):
                raise ConfigError(f"set the Discord token as {TOKEN_ENV}, not as a COROBOT_* variable")
            keys = [k.removeprefix(ENV_PREFIX) for k in known]  # the shared prefix would make all look alike
            close = difflib.get_close_matches(name.upper().removeprefix(ENV_PREFIX), keys, n=1, cutoff=0.8)
            hint = f" (did you mean {ENV_PREFIX}{close[0]}?)" if close else ""
            log.warning("environment variable %s is not a corobot setting; ignoring it%s", name, hint)
            continue
        node = overrides
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _env_value(value)
    return overrides


def _env_value(value: str) -> Any:
    if value.startswith(("[", "{")):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return None if value.lower() in {"null", "none"} else value


def _env_error(error: ErrorDetails) -> str:
    """`COROBOT_RUNNER__MAX_CONCURRENT: <reason>` for a validation error of the merged settings."""
    keys = [str(part) for part in error["loc"] if isinstance(part, str) and part.isidentifier()]
    variable = ENV_PREFIX + "__".join(keys).upper()
    reason = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
    given = f" (got {error['input']!r})" if error["type"] not in {"extra_forbidden", "missing"} else ""
    return f"{variable}: {reason}{given}"


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `path` (optional; missing default file = defaults), apply env overrides, validate."""
    env = environ if environ is not None else os.environ
    data: dict[str, Any] = {}
    where = str(path) if path else "defaults"
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
        try:
            raw, locator = load_yaml(text, str(path))
        except LessonError as exc:
            raise ConfigError(str(exc)) from None
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: the config must be a mapping of settings, got {type(raw).__name__}")
        token_key = _find_token_keys(raw)
        if token_key:
            line, _ = locator.locate(token_key.split("."), prefer_key=True)
            raise ConfigError(
                f"{path}:{line}: '{token_key}' looks like a Discord token. The token is read only from the "
                f"{TOKEN_ENV} environment variable, so it never lands in a file that gets shared or "
                "committed; remove it from the config and export it instead."
            )
        data = raw
    else:
        locator = None
    overrides = _env_overrides(env)
    if _find_token_keys(overrides):
        raise ConfigError(f"set the Discord token as {TOKEN_ENV}, not as a COROBOT_* variable")
    if locator is not None:
        # the file alone first, so its errors carry file:line and an override's never do
        try:
            Settings.model_validate(data)
        except ValidationError as exc:
            details = "; ".join(str(e) for e in describe_validation_error(exc, locator, Settings))
            raise ConfigError(f"invalid settings in {where}: {details}") from None
    try:
        settings = Settings.model_validate(_merge(data, overrides))
    except ValidationError as exc:
        details = "; ".join(_env_error(e) for e in exc.errors(include_url=False))
        raise ConfigError(f"invalid COROBOT_* environment override: {details}") from None
    if settings.runner.timeout_default > settings.runner.timeout_max:
        names = ("runner__timeout_default", "runner__timeout_max")
        from_env = sorted(k for k in env if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX) :].lower() in names)
        sources = [s for s in (str(path) if path else "", ", ".join(from_env)) if s]  # what set them
        raise ConfigError(
            f"{' and '.join(sources) or 'defaults'}: runner.timeout_default ({settings.runner.timeout_default}) "
            f"exceeds runner.timeout_max ({settings.runner.timeout_max})"
        )
    return settings
