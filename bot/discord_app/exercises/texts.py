"""The exercise card (`/exercise`): the goal, the starting code, and what the check looks at.  Pure."""

from __future__ import annotations

from bot.core.lessons import Exercise, Lesson
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, code_block, code_safe, inline_code

GOAL_LIMIT = 700
CODE_LIMIT = 900


def check_summary(exercise: Exercise, locale: str) -> str:
    """`ends ok · takes ≈ 1.0 s (± 0.3) · prints 3 lines · uses create_task · no time.sleep · 20 points`."""
    check = exercise.check
    parts = [t(locale, "exercise.check_status", status=check.status)]
    if check.elapsed is not None:
        parts.append(t(locale, "exercise.check_time", seconds=check.elapsed.seconds, tolerance=check.elapsed.tolerance))
    if check.output is not None:
        parts.append(t(locale, "exercise.check_lines", count=len(check.output)))
    parts.extend(t(locale, "exercise.check_uses", name=inline_code(name, 60)) for name in check.must_use)
    parts.extend(t(locale, "exercise.check_avoids", name=inline_code(name, 60)) for name in check.must_not_use)
    parts.append(t(locale, "exercise.check_points", count=exercise.points))
    return " · ".join(parts)


def exercise_card(lesson: Lesson, exercise: Exercise, locale: str, others: list[str]) -> str:
    head = f"**{clip(lesson.title.get(locale), 150)}** · {inline_code(exercise.id, 60)}"
    title = "## " + t(locale, "exercise.title", title=clip(exercise.title.get(locale), 150))
    goal = clip(exercise.goal.get(locale).strip(), GOAL_LIMIT)
    code = code_block(clip(code_safe(exercise.starter.rstrip("\n")), CODE_LIMIT), "py")
    checked = "-# " + t(locale, "exercise.checked", checks=check_summary(exercise, locale))
    lines = [head, title, goal, t(locale, "exercise.starting_code"), code, checked]
    if others:
        lines.append("-# " + t(locale, "exercise.others", ids=", ".join(inline_code(x, 40) for x in others)))
    return clip("\n".join(lines), MESSAGE_LIMIT)
