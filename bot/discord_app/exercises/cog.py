"""/exercise: a lesson's exercise — the goal and the starting code; the learner's code runs for real and is
graded part by part (with the timeline), points once, a hint after a failed try."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.exercises import exercise_ref, find_exercise, run_name
from bot.core.playground import LearnerRun, Playground
from bot.core.record import RunRecord
from bot.discord_app.autocomplete import exercise_autocomplete, exercise_lesson_autocomplete
from bot.discord_app.context import NO_PINGS, Interaction
from bot.discord_app.errors import report_error
from bot.discord_app.exercises.components import ITEMS, solve_view
from bot.discord_app.exercises.texts import exercise_card
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls
from bot.discord_app.playground.forms import CODE, EXERCISE_FORM, form_values, submitted_form
from bot.discord_app.playground.message import LearnerNotes
from bot.discord_app.playground.service import PlaygroundService
from bot.discord_app.runs.message import RunView
from bot.discord_app.runs.stream import RunTicket

log = logging.getLogger(__name__)


class ExercisesCog(Feature, name="Exercises"):
    items = ITEMS

    async def cog_load(self) -> None:
        await super().cog_load()
        self.services.components.add_form(EXERCISE_FORM)

    async def cog_unload(self) -> None:
        self.services.components.remove_form(EXERCISE_FORM)
        await super().cog_unload()

    @app_commands.command(name=ls("cmd.exercise"), description=ls("cmd.exercise.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"), exercise=ls("opt.exercise"))
    @app_commands.describe(lesson=ls("opt.lesson.desc"), exercise=ls("opt.exercise.desc"))
    @app_commands.autocomplete(lesson=exercise_lesson_autocomplete, exercise=exercise_autocomplete)
    async def exercise(self, interaction: Interaction, lesson: str, exercise: str | None = None) -> None:
        locale = lesson_locale(interaction.locale)
        found, chosen = find_exercise(self.services.catalog.lessons(), lesson.strip(), (exercise or "").strip() or None)
        others = [x.id for x in found.exercises if x.id != chosen.id]
        await interaction.response.send_message(
            exercise_card(found, chosen, locale, others),
            view=solve_view(found.id, chosen.id, locale),
            allowed_mentions=NO_PINGS,
        )

    async def submit(self, interaction: Interaction, lesson_id: str, exercise_id: str, code: str) -> None:
        """Run a submission, grade it before the final edit, keep it as the member's last version."""
        lesson, exercise = find_exercise(self.services.catalog.lessons(), lesson_id, exercise_id)
        learner, core = self.services.get(PlaygroundService), self.services.get(Playground)
        locale = lesson_locale(interaction.locale)
        ref = exercise_ref(lesson, exercise)
        name, timeout = run_name(exercise), exercise.timeout
        request = learner.request(interaction, code, "exercise", source=ref, name=name, timeout=timeout)
        notes = LearnerNotes("exercise", interaction.user.id, exercise=exercise)

        async def graded(run: LearnerRun, record: RunRecord) -> None:
            notes.result = await core.grade(run, lesson, exercise, record)
            passed, awarded = notes.result.grade.passed, notes.result.awarded
            log.info("exercise %s by %s: passed %s, points awarded %s", ref, run.request.user_id, passed, awarded)

        def controls(ticket: RunTicket, record: RunRecord) -> discord.ui.View:
            if not record.done:
                return learner.stop_view(ticket)
            return solve_view(lesson.id, exercise.id, ticket.locale, again=True)

        view = RunView(exercise.title.get(locale), exercise.id, locale, expect=exercise.check)
        await learner.launch(interaction, request, view, notes, controls, graded)
        await core.keep_version(interaction.user.id, "exercise", lesson.id, exercise.id, code)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        custom_id = submitted_form(interaction)
        match = EXERCISE_FORM.fullmatch(custom_id) if custom_id is not None else None
        if match is None:
            return
        try:
            await self.submit(interaction, match["lesson"], match["exercise"], form_values(interaction).get(CODE, ""))
        except Exception as exc:
            await report_error(interaction, exc)
