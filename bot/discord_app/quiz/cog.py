"""/quiz: a lesson's questions, one at a time, answered with buttons, menus and forms."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.autocomplete import lesson_autocomplete
from bot.discord_app.context import NO_PINGS, Interaction, Services
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls, t
from bot.discord_app.quiz.components import FORM, ITEMS, submit_form
from bot.discord_app.quiz.service import QuizService

log = logging.getLogger(__name__)

MODES = [
    app_commands.Choice(name=ls("quiz.mode.group"), value="group"),
    app_commands.Choice(name=ls("quiz.mode.solo"), value="solo"),
]


class QuizCog(Feature, name="Quiz"):
    items = ITEMS

    def __init__(self, bot: commands.Bot, services: Services, quizzes: QuizService) -> None:
        super().__init__(bot, services)
        self.quizzes = quizzes

    async def cog_load(self) -> None:
        """Register the answer controls and forms, provide the service, resume the quizzes saved before a stop."""
        await super().cog_load()
        self.services.components.add_form(FORM)
        self.services.provide(self.quizzes)
        resumed = await self.quizzes.restore()
        if resumed:
            log.info("resumed %d quiz(zes) from the database", resumed)

    async def cog_unload(self) -> None:
        await self.quizzes.shutdown()
        self.services.withdraw(QuizService)
        self.services.components.remove_form(FORM)
        await super().cog_unload()

    @app_commands.command(name=ls("cmd.quiz"), description=ls("cmd.quiz.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"), count=ls("opt.count"), mode=ls("opt.mode"))
    @app_commands.rename(speed_bonus=ls("opt.speed_bonus"))
    @app_commands.describe(lesson=ls("opt.lesson.desc"), count=ls("opt.count.desc"), mode=ls("opt.mode.desc"))
    @app_commands.describe(speed_bonus=ls("opt.speed_bonus.desc"))
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
        locale = lesson_locale(interaction.locale)
        solo = mode is not None and mode.value == "solo"
        where = (interaction.guild_id or 0, interaction.channel_id or 0)
        owner = interaction.user.id
        bonus = speed_bonus
        live = self.quizzes.new_quiz(lesson.strip(), where, owner, locale, count=count, solo=solo, speed_bonus=bonus)
        title, questions = live.lesson.title.get(locale), len(live.game.questions)
        intro = t(locale, "quiz.intro", title=title, count=questions, user=f"<@{owner}>")
        if solo:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send(intro, ephemeral=True, allowed_mentions=NO_PINGS)
            live.interaction = interaction
        else:
            await interaction.response.send_message(intro, allowed_mentions=NO_PINGS)
        await self.quizzes.start(live)
        kind = "solo" if solo else "group"
        log.info("%s quiz %s started by %s: %s, %d question(s)", kind, live.id, owner, live.lesson.id, questions)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """Answer forms carry everything in their custom id (see `components.AnswerForm`)."""
        await submit_form(interaction)
