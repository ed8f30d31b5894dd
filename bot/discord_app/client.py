"""The discord.py `Bot`: built with its services (nothing module-level), loads the cogs in `setup_hook`,
syncs commands only when their payload changed, and closes cleanly (runs cancelled, messages finalised)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.storage import Storage
from bot.discord_app.cogs.admin import AdminCog
from bot.discord_app.cogs.lessons import LessonsCog
from bot.discord_app.cogs.progress import ProgressCog
from bot.discord_app.cogs.quiz import QuizCog
from bot.discord_app.cogs.runs import RunsCog
from bot.discord_app.cogs.study import StudyCog
from bot.discord_app.errors import report_error
from bot.discord_app.i18n import StringTableTranslator
from bot.discord_app.quizzes import QuizService, QuizTiming
from bot.discord_app.runs import RunService
from bot.discord_app.studies import StudyService
from bot.discord_app.views.buttons import DYNAMIC_ITEMS
from bot.discord_app.views.quiz import QUIZ_ITEMS, quiz_components
from bot.discord_app.views.study import SessionButton, session_components
from bot.storage.sqlite import SqliteStorage

if TYPE_CHECKING:
    from bot.core.runner import Runner

log = logging.getLogger(__name__)


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
        shutdown_timeout: float = 5.0,
        **options: Any,
    ) -> None:
        """`storage` keeps runs, answers, progress, quizzes and sessions (the composition root opens and closes
        it); without one the bot keeps them in an in-memory database it owns, lost at exit."""
        intents = discord.Intents.none()
        intents.guilds = True
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
        self.settings = settings
        self.catalog = catalog
        self.runner = runner
        self._own_storage = storage is None
        self.storage: Storage = storage if storage is not None else SqliteStorage(Path(":memory:"))
        self.runs = RunService(catalog, runner, settings.discord, self.storage)
        timing = quiz_timing or QuizTiming()
        self.quizzes = QuizService(self, catalog, runner, self.storage, timing, quiz_components)
        self.studies = StudyService(
            self, catalog, self.storage, self.quizzes, self.runs, settings.discord, timing, session_components
        )
        self.shutdown_timeout = shutdown_timeout
        self.synced: bool | None = None  # True when setup_hook uploaded commands, False when unchanged

    async def setup_hook(self) -> None:
        if self._own_storage:
            await self.storage.open()
        for cog in (LessonsCog(), RunsCog(), AdminCog(), QuizCog(), StudyCog(), ProgressCog()):
            await self.add_cog(cog)
        self.add_dynamic_items(*DYNAMIC_ITEMS, *QUIZ_ITEMS, SessionButton)
        quizzes = await self.quizzes.restore()
        sessions = await self.studies.restore()
        if quizzes or sessions:
            log.info("resumed %d quiz(zes) and %d study session(s) from the database", quizzes, sessions)
        await self.tree.set_translator(StringTableTranslator())
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
        log.info("connected as %s (%s); %d lessons loaded", self.user, self.application_id, len(self.catalog.lessons()))

    async def close(self) -> None:
        """Stop accepting runs, cancel the running ones (their messages say the bot is restarting), close."""
        if not self.is_closed():
            await self.runs.shutdown(grace=self.shutdown_timeout)
            await self.studies.shutdown()
            await self.quizzes.shutdown()
        await super().close()
        if self._own_storage:
            await self.storage.close()


def stop_on_signals(bot: CorobotBot, tasks: set[asyncio.Task[None]]) -> list[int]:
    """SIGINT/SIGTERM -> `bot.close()` (once); returns the signals installed (for removal)."""
    import signal

    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def on_signal(signum: int) -> None:
        log.info("received %s; shutting down", signal.Signals(signum).name)
        if tasks:
            return
        task = loop.create_task(bot.close(), name="shutdown")
        tasks.add(task)

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):
            log.debug("cannot install a handler for signal %s", signum)
    return installed
