"""How every front-end words the core's data: a domain error, what a verdict found in the output, timings a
run cannot vouch for, the timeline's legend.  The console and the Discord bot word these alike; each arranges
them its own way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.core.errors import DETAIL, CorobotError
from bot.core.events import Finished
from bot.core.lessons import Text
from bot.core.record import OutputDifference
from bot.core.review.path import Recommendation
from bot.core.timeline import Legend
from bot.locales import t

QUOTE_LIMIT = 60


def _clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _same(text: str) -> str:
    return text


def error_text(error: CorobotError, locale: str | None, safe: Callable[[str], str] = _same, **extra: object) -> str:
    """A domain error in `locale`: its message filled with its parameters, lesson texts in `locale`, lists
    joined, and every piece of text passed through `safe` (a front-end's quoting and escaping).  An English
    diagnostic (`error.detail`) is shown as it is."""
    if error.message_id == DETAIL:
        return t(locale, DETAIL, **error.params)

    def value(param: object) -> object:
        if isinstance(param, Text):
            return safe(param.get(locale))
        if isinstance(param, str):
            return safe(param)
        if isinstance(param, Sequence):
            return ", ".join(str(value(item)) for item in param)
        return param

    params = {name: value(param) for name, param in {**error.params, **extra}.items()}
    return t(locale, error.message_id, **params)


def failure_text(exc: BaseException, locale: str | None = None) -> str:
    """Any failure for an operator's terminal: a domain error's English detail when it has one (a storage
    error's says what failed, where and what to do), else its message in `locale`; else the exception."""
    if isinstance(exc, CorobotError):
        return exc.detail or error_text(exc, locale, repr)
    return f"{type(exc).__name__}: {exc}"


def difference_text(diff: OutputDifference, language: str, quote: Callable[[str], str] = repr) -> str:
    """Where the printed lines depart from the expected ones; `quote` marks up a quoted line."""
    if diff.actual is None:
        return t(language, "verdict.output_ended_early", expected=diff.expected_count, actual=diff.actual_count)
    if diff.expected is None:
        extra = diff.actual_count - diff.expected_count
        return t(language, "verdict.output_extra", count=extra, first=quote(_clip(diff.actual)))
    expected, actual = quote(_clip(diff.expected)), quote(_clip(diff.actual))
    return t(language, "verdict.output_differs", line=diff.line, expected=expected, actual=actual)


def timings_warning(finished: Finished | None, language: str) -> str | None:
    """The warning for a run whose program reported times outside its real run (they are shown clamped), or
    None when its timings can be trusted (or it has not finished)."""
    if finished is None or finished.timings_trusted:
        return None
    return t(language, "run.timings_untrusted")


def legend(language: str) -> Legend:
    """The timeline's words in `language`."""
    return Legend(
        cancelled=t(language, "timeline.cancelled"),
        failed=t(language, "timeline.failed"),
        pending=t(language, "timeline.pending"),
        blocked=t(language, "timeline.blocked"),
        more_tasks=lambda count: t(language, "timeline.more_tasks", count=count),
        running=t(language, "timeline.running"),
        waiting=t(language, "timeline.waiting"),
        unmeasured=t(language, "timeline.unmeasured"),
        output=t(language, "timeline.output"),
        lifetime=t(language, "timeline.lifetime"),
    )


def until(seconds: float, locale: str | None) -> str:
    """How long until something, roughly: 'now', 'in 10 minutes', 'in 5 hours', 'in 3 days' (in `locale`)."""
    for size, msgid in ((86400, "console.when.days"), (3600, "console.when.hours"), (60, "console.when.minutes")):
        if seconds >= size:
            return t(locale, msgid, count=round(seconds / size))
    return t(locale, "console.when.now")


def path_reasons(next_lesson: Recommendation, locale: str | None) -> str:
    """Why a lesson is the next one on a learner's path: started, prerequisites done, the weakest topic."""
    found = [t(locale, "path.reason.started")] if next_lesson.started else []
    if next_lesson.prerequisites:
        found.append(t(locale, "path.reason.prerequisites", lessons=", ".join(next_lesson.prerequisites)))
    else:
        found.append(t(locale, "path.reason.first"))
    if next_lesson.weakest_topic is not None and next_lesson.topic_mastery is not None:
        share = f"{next_lesson.topic_mastery:.0%}"
        found.append(t(locale, "path.reason.weakest", topic=next_lesson.weakest_topic, share=share))
    return "; ".join(found)
