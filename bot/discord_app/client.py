"""The discord.py `Bot`: built with its services (nothing module-level), loads one extension per feature in
`setup_hook`, syncs the commands only when their payload changed, and closes cleanly.

Closing unloads every extension first (discord.py's `Bot.close`): each feature's cog stops its work there —
running examples end with a "restarting" edit, quiz and session timers stop (their state is already saved).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.review.service import Learning
from bot.core.runner import Runner
from bot.core.storage import Storage
from bot.discord_app.context import QuizTiming, Services
from bot.discord_app.errors import report_error
from bot.discord_app.i18n import CatalogTranslator
from bot.locales import messages
from bot.storage.sqlite import SqliteStorage

log = logging.getLogger(__name__)

# One extension per feature, in dependency order (study uses runs and quiz, review uses quiz); `fallback`
# answers the rest.
EXTENSIONS = (
    "bot.discord_app.lessons",
    "bot.discord_app.runs",
    "bot.discord_app.quiz",
    "bot.discord_app.study",
    "bot.discord_app.progress",
    "bot.discord_app.review",
    "bot.discord_app.admin",
    "bot.discord_app.fallback",
)


class CorobotTree(app_commands.CommandTree[discord.Client]):
    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)


class CorobotBot(commands.Bot):
    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        runner: Runner,
        *,
        storage: Storage | None = None,
        quiz_timing: QuizTiming | None = None,
        learning: Learning | None = None,
        shutdown_timeout: float = 5.0,
        features: Sequence[str] = EXTENSIONS,
        **options: Any,
    ) -> None:
        """`storage` keeps runs, answers, progress, quizzes and sessions (the composition root opens and closes
        it); without one the bot keeps them in an in-memory database it owns, lost at exit."""
        intents = discord.Intents.none()
        intents.guilds = True
        intents.dm_messages = True  # a reply "stop" to a review reminder (no message-content intent: DMs carry it)
        # corobot never joins voice: discord.py's start-up warnings about missing voice libraries are noise
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=CorobotTree,
            help_command=None,
            **options,
        )
        self._own_storage = storage is None
        self.services = Services(
            settings,
            catalog,
            runner,
            storage if storage is not None else SqliteStorage(Path(":memory:")),
            timing=quiz_timing or QuizTiming(),
            learning=learning,
            shutdown_grace=shutdown_timeout,
        )
        self.features = tuple(features)
        self.synced: bool | None = None  # True when setup_hook uploaded commands, False when unchanged

    @property
    def settings(self) -> Settings:
        return self.services.settings

    async def setup_hook(self) -> None:
        if self._own_storage:
            await self.services.storage.open()
        messages()  # read the text catalog now rather than on the first interaction
        for name in self.features:
            await self.load_extension(name)
        await self.tree.set_translator(CatalogTranslator())
        try:
            self.synced = await self.sync_commands()
        except discord.HTTPException as exc:
            log.error("could not sync application commands (%s); the previous set stays in effect", exc)

    def _sync_target(self) -> discord.Object | None:
        guild_id = self.settings.discord.dev_guild_id
        return discord.Object(id=guild_id) if guild_id else None

    async def command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        translator = self.tree.translator
        commands_ = self.tree.get_commands(guild=guild)
        if translator is None:
            return [c.to_dict(self.tree) for c in commands_]
        return [await c.get_translated_payload(self.tree, translator) for c in commands_]

    def _hash_file(self, guild: discord.abc.Snowflake | None) -> Path:
        target = f"guild-{guild.id}" if guild else "global"
        return self.settings.data_dir / f"discord-commands-{target}.sha256"

    async def sync_commands(self, *, force: bool = False) -> bool:
        """Upload the commands unless their payload hash matches the last upload; returns whether it synced."""
        guild = self._sync_target()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = await self.command_payload(guild)
        blob = json.dumps({"app": self.application_id, "commands": payload}, sort_keys=True, default=str)
        digest = hashlib.sha256(blob.encode()).hexdigest()
        path = self._hash_file(guild)
        try:
            previous = path.read_text(encoding="utf-8").strip()
        except OSError:
            previous = ""
        where = f"guild {guild.id}" if guild else "globally"
        if previous == digest and not force:
            log.info("application commands unchanged; not syncing (%s)", where)
            return False
        await self.tree.sync(guild=guild)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(digest + "\n", encoding="utf-8")
        except OSError as exc:
            log.warning("could not store the command hash in %s: %s", path, exc)
        log.info("synced %d application commands %s", len(payload), where)
        return True

    async def on_ready(self) -> None:
        lessons = len(self.services.catalog.lessons())
        log.info("connected as %s (%s); %d lessons loaded", self.user, self.application_id, lessons)

    async def close(self) -> None:
        """Unload the features (each stops its work), then close the connection and an owned database."""
        await super().close()
        if self._own_storage:
            await self.services.storage.close()
