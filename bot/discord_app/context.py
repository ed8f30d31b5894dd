"""What the features of the Discord front-end share, without importing the client (a leaf: no feature, no
client imports here, so nothing can import its way round in a circle).

`Services` holds the resources the composition root built (settings, lesson catalog, runner, storage) and a
typed registry of the features' services: a feature's cog `provide`s its service when it loads and
`withdraw`s it when it unloads; components and other features look it up by class.

    quizzes = services_of(interaction.client).get(QuizService)      # typed: QuizService

`Components` remembers the custom-id templates the features registered, so the fallback extension can tell
an interaction no feature claims (a button left by an older version, a garbled id) and answer it politely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

import discord

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.review.service import Learning
from bot.core.runner import Runner
from bot.core.storage import Storage

Interaction = discord.Interaction[discord.Client]
NO_PINGS = discord.AllowedMentions.none()
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QuizTiming:
    question_timeout: float | None = None  # overrides every question's own window (tests, short sessions)
    gap: float = 3.0  # seconds between a reveal and the next question


class Components:
    """The custom-id templates of every registered dynamic item and form (modal)."""

    def __init__(self) -> None:
        self._patterns: dict[str, re.Pattern[str]] = {}

    def add(self, client: discord.Client, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        client.add_dynamic_items(*items)
        for item in items:
            pattern = item.__discord_ui_compiled_template__
            self._patterns[pattern.pattern] = pattern

    def remove(self, client: discord.Client, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        client.remove_dynamic_items(*items)
        for item in items:
            self._patterns.pop(item.__discord_ui_compiled_template__.pattern, None)

    def add_form(self, pattern: re.Pattern[str]) -> None:
        """A form's (modal's) custom-id template: forms are not dynamic items, their feature handles them."""
        self._patterns[pattern.pattern] = pattern

    def remove_form(self, pattern: re.Pattern[str]) -> None:
        self._patterns.pop(pattern.pattern, None)

    def claims(self, custom_id: str) -> bool:
        return any(p.fullmatch(custom_id) for p in self._patterns.values())


@dataclass(eq=False)
class Services:
    settings: Settings
    catalog: Catalog
    runner: Runner
    storage: Storage
    timing: QuizTiming = field(default_factory=QuizTiming)
    learning: Learning | None = None  # spaced review and the path; the review feature builds one when None
    shutdown_grace: float = 5.0  # seconds running examples get to show "restarting" when the bot stops
    components: Components = field(default_factory=Components)
    _provided: dict[type, object] = field(default_factory=dict)

    def provide(self, service: object) -> None:
        self._provided[type(service)] = service

    def withdraw(self, kind: type) -> None:
        self._provided.pop(kind, None)

    def get(self, kind: type[T]) -> T:
        found = self._provided.get(kind)
        if not isinstance(found, kind):
            loaded = ", ".join(sorted(k.__qualname__ for k in self._provided)) or "none"
            raise LookupError(f"no {kind.__qualname__} is loaded (loaded: {loaded}); check the extension order")
        return found


def services_of(client: discord.Client) -> Services:
    """The services of the bot behind `client` (the `CorobotBot` sets `client.services`)."""
    found = getattr(client, "services", None)
    if not isinstance(found, Services):
        raise TypeError(f"{type(client).__name__} has no corobot services")
    return found
