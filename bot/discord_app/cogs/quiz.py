"""/quiz: a lesson's questions, one at a time, answered with buttons, menus and modals."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs._common import NONE, Interaction, bot_of, lesson_autocomplete
from bot.discord_app.i18n import lesson_locale, ls, t
from bot.discord_app.views.quiz import on_modal_submit

log = logging.getLogger(__name__)

MODES = [
    app_commands.Choice(name=ls("quiz.mode.group"), value="group"),
    app_commands.Choice(name=ls("quiz.mode.solo"), value="solo"),
]


class QuizCog(commands.Cog):
    @app_commands.command(name=ls("cmd.quiz"), description=ls("cmd.quiz.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"), count=ls("opt.count"), mode=ls("opt.mode"),
                         speed_bonus=ls("opt.speed_bonus"))  # fmt: skip
    @app_commands.describe(lesson=ls("opt.lesson.desc"), count=ls("opt.count.desc"), mode=ls("opt.mode.desc"),
                           speed_bonus=ls("opt.speed_bonus.desc"))  # fmt: skip
    @app_commands.choices(mode=MODES)
    @app_commands.autocomplete(lesson=lesson_autocomplete)
    async def quiz(
        self,
        interaction: Interaction,
        lesson: str,
        count: app_commands.Range[int, 1, 25] | None = None,
        mode: app_commands.Choice[str] | None = None,
        speed_bonus: bool = False,
    ) -> None:
        bot = bot_of(interaction)
        locale = lesson_locale(interaction.locale)
        solo = mode is not None and mode.value == "solo"
        live = bot.quizzes.new_quiz(
            lesson.strip(), guild_id=interaction.guild_id or 0, channel_id=interaction.channel_id or 0,
            owner=interaction.user.id, locale=locale, count=count, solo=solo, speed_bonus=speed_bonus,
        )  # fmt: skip
        intro = t(locale, "quiz.intro", title=live.lesson.title.get(locale), count=len(live.game.questions),
                  user=f"<@{interaction.user.id}>")  # fmt: skip
        if solo:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send(intro, ephemeral=True, allowed_mentions=NONE)
            live.interaction = interaction
        else:
            await interaction.response.send_message(intro, allowed_mentions=NONE)
        await bot.quizzes.start(live)
        log.info("quiz %s started by %s: %s, %d question(s)%s", live.id, interaction.user.id, live.lesson.id,
                 len(live.game.questions), " (solo)" if solo else "")  # fmt: skip

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """Answer forms (modals) carry everything in their custom_id: see `views.quiz.AnswerModal`."""
        await on_modal_submit(interaction)
