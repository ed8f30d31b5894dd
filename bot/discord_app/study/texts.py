"""A study session's messages as text (pure): the session card and the summary at the end."""

from __future__ import annotations

from bot.core.sessions import SessionStatus, SessionSummary, StudySession
from bot.discord_app.i18n import t
from bot.discord_app.lessons.pages import section_heading
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.quiz.texts import mention

STATUS = {
    SessionStatus.ACTIVE: "study.status.active",
    SessionStatus.PAUSED: "study.status.paused",
    SessionStatus.ENDED: "study.status.ended",
}


def session_card(session: StudySession, locale: str) -> str:
    lesson = session.lesson
    out = [t(locale, "study.title", title=lesson.title.get(locale), lesson=lesson.id)]
    out.append(t(locale, "study.host", host=mention(session.host_id), status=t(locale, STATUS[session.status])))
    if session.auto_advance:
        out.append(t(locale, "study.auto", seconds=session.auto_advance))
    if 0 <= session.section < len(lesson.sections):
        out.append("")
        out.append(section_heading(lesson, session.section, locale))
        out.append(clip(lesson.sections[session.section].body.get(locale), 1000))
    else:
        sections = t(locale, "study.sections", count=len(lesson.sections))
        questions = t(locale, "study.questions", count=len(lesson.quiz))
        out.append(t(locale, "study.intro", sections=sections, questions=questions))
    present = session.present()
    who = ", ".join(mention(u) for u in present[:40]) or "—"
    out.append("")
    out.append(t(locale, "study.members", count=len(present), who=who))
    return clip("\n".join(out), MESSAGE_LIMIT)


def summary_text(session: StudySession, summary: SessionSummary, locale: str) -> str:
    minutes, seconds = divmod(int(summary.duration), 60)
    facts = (
        t(locale, "study.participants", count=len(summary.participants)),
        t(locale, "study.questions_asked", count=summary.questions),
        t(locale, "study.example_runs", count=len(session.examples_run)),
    )
    out = [
        t(locale, "study.summary", title=session.lesson.title.get(locale)),
        t(locale, "study.summary_line", duration=f"{minutes}:{seconds:02d}", facts=" · ".join(facts)),
    ]
    for m in summary.members[:30]:
        accuracy = "—" if m.accuracy is None else f"{m.accuracy:.0%}"
        user = mention(m.user_id)
        row = t(
            locale, "study.member_row", user=user, points=m.points, right=m.correct, of=m.answered, accuracy=accuracy
        )
        out.append(row)
    return clip("\n".join(out), MESSAGE_LIMIT)
