"""Fixtures: an emulator per test and a real discord.py bot with an app_commands tree defined here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import FakeDiscord, running

log = logging.getLogger(__name__)

LESSONS = ["hello", "gather", "taskgroup", "timeouts", "queues"]


class Pick(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.clicked: list[int] = []

    @discord.ui.button(label="Run again", custom_id="again", style=discord.ButtonStyle.primary)
    async def again(self, interaction: discord.Interaction, button: discord.ui.Button[Pick]) -> None:
        self.clicked.append(interaction.user.id)
        await interaction.response.edit_message(content=f"again by {interaction.user.name}", view=self)

    @discord.ui.select(custom_id="lesson", options=[discord.SelectOption(label=x, value=x) for x in LESSONS[:3]])
    async def choose(self, interaction: discord.Interaction, select: discord.ui.Select[Pick]) -> None:
        await interaction.response.send_message(f"picked {select.values[0]}", ephemeral=True)


class Feedback(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Feedback] = discord.ui.TextInput(label="What did you learn?", custom_id="text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class DemoBot(commands.Bot):
    """A small bot exercising the API surface corobot's front-end uses."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.guild_id = guild_id
        self.events: list[str] = []
        self.errors: list[BaseException] = []
        self.interactions_seen: list[int] = []
        self.add_listeners()

    def add_listeners(self) -> None:
        async def on_resumed() -> None:
            self.events.append("resumed")

        async def on_interaction(interaction: discord.Interaction) -> None:
            self.interactions_seen.append(interaction.id)

        self.add_listener(on_resumed)
        self.add_listener(on_interaction)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every re-IDENTIFY (Discord's identify rate limit); not against the emulator.
        if not initial:
            self.events.append("reidentify")

    async def setup_hook(self) -> None:
        build_tree(self)
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)
        await self.tree.sync()


def build_tree(bot: DemoBot) -> None:
    tree = bot.tree

    async def lesson_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=x, value=x) for x in LESSONS if current in x]

    @tree.command(name="run", description="Run a lesson")
    @app_commands.autocomplete(lesson=lesson_autocomplete)
    async def run(interaction: discord.Interaction, lesson: str, repeat: int = 1) -> None:
        await interaction.response.defer(thinking=True)
        msg = await interaction.followup.send(f"running {lesson} x{repeat}", wait=True)
        await msg.edit(content=f"done {lesson} x{repeat} ({interaction.locale.value})")

    @tree.command(name="menu", description="Show buttons")
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("menu", view=Pick())

    @tree.command(name="feedback", description="Open a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @tree.command(name="admin", description="Admins only")
    async def admin(interaction: discord.Interaction) -> None:
        perms = interaction.permissions
        await interaction.response.send_message(f"manage_guild={perms.manage_guild}", ephemeral=True)

    group = app_commands.Group(name="quiz", description="Quizzes")

    @group.command(name="start", description="Start a quiz")
    async def start(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(f"quiz on {topic}")

    tree.add_command(group)

    @tree.command(name="slow", description="Answers after a delay via followup")
    async def slow(interaction: discord.Interaction, delay: float) -> None:
        await interaction.response.defer()
        await asyncio.sleep(delay)
        try:
            await interaction.followup.send("late")
        except discord.HTTPException as e:
            bot.errors.append(e)

    @tree.command(name="steps", description="original_response, ephemeral follow-up, delete, edit")
    async def steps(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("step 1")
        original = await interaction.original_response()
        extra = await interaction.followup.send("private", ephemeral=True, wait=True)
        await extra.delete()
        await interaction.edit_original_response(content=f"step 2 of {original.id}")

    @tree.command(name="file", description="Send an attachment")
    async def file(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.followup.send("here", file=discord.File(__import__("io").BytesIO(b"print('hi')\n"), "out.py"))


@pytest.fixture(autouse=True)
def no_discordpy_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """discord.py swallows payload parsing errors in its gateway loop and only logs them: fail on those."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.name.startswith("discord") and r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() + (f" {r.exc_info[1]!r}" if r.exc_info else "") for r in errors]


@pytest.fixture
async def fd() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as emulator:
        yield emulator


@pytest.fixture
async def bot(fd: FakeDiscord) -> AsyncIterator[DemoBot]:
    client = DemoBot(fd.guild)
    async with running(client, fd):
        yield client
