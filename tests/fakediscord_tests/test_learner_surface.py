"""What learner code needs of the emulator, answered by a real bot: modals with pre-filled text inputs (and
Discord's limits on them), message context-menu commands, MESSAGE_UPDATE for a user's edit (content only with
the message content intent), and a privileged intent the "developer portal" has not enabled (close 4014)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import FakeDiscord, running
from tests.fakediscord.models import INTENT_GUILD_MEMBERS

pytestmark = pytest.mark.timeout(30)


class CodeForm(discord.ui.Modal, title="Edit the code"):
    def __init__(self, code: str, max_length: int = 4000) -> None:
        super().__init__()
        self.code: discord.ui.TextInput[CodeForm] = discord.ui.TextInput(
            label="Code", custom_id="code", style=discord.TextStyle.paragraph, default=code, max_length=max_length
        )
        self.stdin: discord.ui.TextInput[CodeForm] = discord.ui.TextInput(
            label="Input", custom_id="stdin", required=False, style=discord.TextStyle.paragraph
        )
        self.add_item(self.code)
        self.add_item(self.stdin)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"{len(self.code.value)}|{self.stdin.value}")


class LearnerBot(commands.Bot):
    def __init__(self, guild_id: int, *, content: bool = True) -> None:
        intents = discord.Intents.none()
        intents.guilds = intents.guild_messages = True
        intents.message_content = content
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.guild_id = guild_id
        self.edits: list[tuple[int, str | None]] = []
        self.errors: list[BaseException] = []

    async def setup_hook(self) -> None:
        @self.tree.command(name="edit", description="Open a pre-filled form")
        async def edit(interaction: discord.Interaction, size: int, limit: int = 4000) -> None:
            try:
                await interaction.response.send_modal(CodeForm("x" * size, limit))
            except discord.HTTPException as exc:
                self.errors.append(exc)

        async def run_it(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"ran {message.id}: {message.content}")

        self.tree.add_command(app_commands.ContextMenu(name="Run with corobot", callback=run_it))
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.edits.append((payload.message_id, payload.data.get("content")))


@pytest.fixture
async def fd() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as emulator:
        yield emulator


async def test_a_modal_opens_pre_filled_and_submits_the_edited_text(fd: FakeDiscord) -> None:
    async with running(LearnerBot(fd.guild), fd):
        alice = fd.add_user("alice")
        opened = await fd.slash(alice, "edit", {"size": 4000})
        assert opened.modal is not None and opened.modal["title"] == "Edit the code"
        fields = {f["custom_id"]: f for row in opened.modal["components"] for f in row["components"]}
        assert len(fields["code"]["value"]) == 4000 and fields["code"]["max_length"] == 4000
        done = await fd.submit_modal(alice, opened, {"stdin": "alice\n"})  # the code as pre-filled
        assert done.original is not None and done.original.content == "4000|alice\n"
        with pytest.raises(ValueError, match="refuses 4001 characters"):
            await fd.submit_modal(alice, opened, {"code": "y" * 4001}, check_lengths=True)


async def test_discord_refuses_a_form_over_its_limits(fd: FakeDiscord) -> None:
    bot = LearnerBot(fd.guild)
    async with running(bot, fd):
        alice = fd.add_user("alice")
        too_long = await fd.slash(alice, "edit", {"size": 10, "limit": 4001}, wait=False)
        prefilled = await fd.slash(alice, "edit", {"size": 101, "limit": 100}, wait=False)
        await fd.wait_until(lambda: len(bot.errors) == 2)
        assert too_long.modal is None and prefilled.modal is None
        assert all(isinstance(e, discord.HTTPException) and e.code == 50035 for e in bot.errors)
        assert "value" in str(bot.errors[1]) and "max_length" in str(bot.errors[0])


async def test_a_message_command_carries_the_target_message(fd: FakeDiscord) -> None:
    async with running(LearnerBot(fd.guild, content=False), fd):
        alice, bob = fd.add_user("alice"), fd.add_user("bob")
        posted = await fd.say(alice, "```py\nprint(1)\n```")
        ix = await fd.message_command(bob, "Run with corobot", posted)
        assert ix.original is not None
        assert ix.original.content == f"ran {posted.id}: ```py\nprint(1)\n```"  # content even without the intent
        with pytest.raises(LookupError):
            await fd.message_command(bob, "No such command", posted)


@pytest.mark.parametrize("content", [True, False], ids=["with-content-intent", "without"])
async def test_an_edit_is_a_message_update_with_content_only_with_the_intent(fd: FakeDiscord, content: bool) -> None:
    bot = LearnerBot(fd.guild, content=content)
    async with running(bot, fd):
        alice = fd.add_user("alice")
        posted = await fd.say(alice, "print(1)")
        await fd.edit(alice, posted, "print(2)")
        await fd.wait_until(lambda: bool(bot.edits))
        assert bot.edits == [(posted.id, "print(2)" if content else "")]
        assert posted.content == "print(2)" and posted.edits == 1
        with pytest.raises(PermissionError):
            await fd.edit(fd.add_user("mallory"), posted, "stolen")


async def test_a_privileged_intent_the_portal_does_not_allow_closes_with_4014() -> None:
    async with FakeDiscord(privileged_intents=INTENT_GUILD_MEMBERS) as fd:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with running(LearnerBot(fd.guild), fd, timeout=10):
                pass
        async with running(LearnerBot(fd.guild, content=False), fd):  # without it: accepted
            await asyncio.sleep(0)
