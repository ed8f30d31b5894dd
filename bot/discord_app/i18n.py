"""Bot strings in English and Simplified Chinese, and the app-command `Translator`.

`t(locale, key, **values)` formats a string for a Discord locale (`zh-CN`/`zh-TW`/`zh` -> Chinese, everything
else -> English; a key missing in Chinese falls back to English).  Command names, descriptions and option
names are declared with `locale_str(english, key=...)` and translated by `StringTableTranslator`.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

log = logging.getLogger(__name__)

EN = "en"
ZH = "zh-CN"

STRINGS: dict[str, dict[str, str]] = {
    # -- command metadata (names: lowercase, no spaces) --------------------------------------------------------
    "cmd.lessons": {EN: "lessons", ZH: "课程列表"},
    "cmd.lessons.desc": {EN: "Browse the lessons", ZH: "浏览所有课程"},
    "cmd.lesson": {EN: "lesson", ZH: "课程"},
    "cmd.lesson.desc": {EN: "Read a lesson: its sections and example code", ZH: "阅读一节课：章节和示例代码"},
    "cmd.run": {EN: "run", ZH: "运行"},
    "cmd.run.desc": {EN: "Run a lesson's example and watch its output live", ZH: "运行课程示例并实时查看输出"},
    "cmd.stop": {EN: "stop", ZH: "停止"},
    "cmd.stop.desc": {EN: "Stop your running or queued example", ZH: "停止你正在运行或排队的示例"},
    "cmd.help": {EN: "help", ZH: "帮助"},
    "cmd.help.desc": {EN: "What corobot does and how to start", ZH: "corobot 是什么、如何开始"},
    "cmd.reload": {EN: "reload", ZH: "重新加载"},
    "cmd.reload.desc": {EN: "Reload lessons from disk (admins only)", ZH: "从磁盘重新加载课程（仅管理员）"},
    "opt.tag": {EN: "tag", ZH: "标签"},
    "opt.tag.desc": {EN: "Only lessons with this tag", ZH: "只显示带此标签的课程"},
    "opt.level": {EN: "level", ZH: "难度"},
    "opt.level.desc": {EN: "Only lessons of this level", ZH: "只显示此难度的课程"},
    "opt.lesson": {EN: "lesson", ZH: "课程"},
    "opt.lesson.desc": {EN: "Lesson id or title", ZH: "课程 id 或标题"},
    "opt.example": {EN: "example", ZH: "示例"},
    "opt.example.desc": {EN: "Example id (default: the first one)", ZH: "示例 id（默认第一个）"},
    "level.beginner": {EN: "beginner", ZH: "入门"},
    "level.intermediate": {EN: "intermediate", ZH: "中级"},
    "level.advanced": {EN: "advanced", ZH: "高级"},
    # -- catalogue and lesson pages ----------------------------------------------------------------------------
    "lessons.header": {EN: "**Lessons** ({count})", ZH: "**课程**（{count} 节）"},
    "lessons.filtered": {EN: "filter: {filters}", ZH: "筛选：{filters}"},
    "lessons.none": {
        EN: "No lessons match. Try /lessons without filters.",
        ZH: "没有符合条件的课程。试试不带筛选条件的 /lessons。",
    },
    "lessons.page": {
        EN: "Page {page}/{pages} · open one with /lesson",
        ZH: "第 {page}/{pages} 页 · 用 /lesson 打开一节课",
    },
    "lesson.page": {EN: "Page {page}/{pages}", ZH: "第 {page}/{pages} 页"},
    "lesson.section": {EN: "Section {n}/{total}: {title}", ZH: "第 {n}/{total} 章：{title}"},
    "lesson.example": {EN: "Example {n}/{total}: {title}", ZH: "示例 {n}/{total}：{title}"},
    "lesson.try": {EN: "Press Run to watch an example execute.", ZH: "点击“运行”观看示例的执行过程。"},
    "button.prev": {EN: "Previous", ZH: "上一页"},
    "button.next": {EN: "Next", ZH: "下一页"},
    "button.run": {EN: "Run {example}", ZH: "运行 {example}"},
    "button.stop": {EN: "Stop", ZH: "停止"},
    "button.again": {EN: "Run again", ZH: "再运行一次"},
    # -- a run -------------------------------------------------------------------------------------------------
    "run.queued": {EN: "queued: {ahead} ahead of you", ZH: "排队中：前面还有 {ahead} 个"},
    "run.queued_next": {EN: "queued: you're next", ZH: "排队中：下一个就是你"},
    "run.starting": {EN: "starting…", ZH: "正在启动…"},
    "run.running": {EN: "running…", ZH: "运行中…"},
    "run.no_output": {EN: "(no output yet)", ZH: "（暂无输出）"},
    "run.hidden": {EN: "… {count} earlier lines hidden", ZH: "… 已隐藏前面 {count} 行"},
    "run.attached": {EN: "full output attached", ZH: "完整输出见附件"},
    "run.status.ok": {EN: "✅ finished", ZH: "✅ 完成"},
    "run.status.error": {EN: "❌ raised an exception", ZH: "❌ 抛出异常"},
    "run.status.timeout": {EN: "⏱️ timed out", ZH: "⏱️ 超时"},
    "run.status.output_limit": {EN: "📜 output limit reached", ZH: "📜 输出超出限制"},
    "run.status.memory_limit": {EN: "💾 memory limit reached", ZH: "💾 内存超出限制"},
    "run.status.cpu_limit": {EN: "🔥 CPU time limit reached", ZH: "🔥 CPU 时间超出限制"},
    "run.status.killed": {EN: "💀 killed", ZH: "💀 被终止"},
    "run.status.cancelled": {EN: "⏹️ stopped", ZH: "⏹️ 已停止"},
    "run.total": {EN: "{status} in {elapsed:.3f}s", ZH: "{status}，用时 {elapsed:.3f}s"},
    "run.timings_untrusted": {
        EN: "⚠️ timings not trusted: the program reported times outside its run",
        ZH: "⚠️ 计时不可信：程序报告的时间超出了它的实际运行范围",
    },
    "run.restarting": {
        EN: "🔄 corobot is restarting, so this run was stopped. Run it again in a moment.",
        ZH: "🔄 corobot 正在重启，此次运行已停止。请稍后再运行。",
    },
    "run.expected_time": {
        EN: "Expected ~{expected:.2f}s (±{tolerance:.2f}), took {actual:.3f}s {mark}",
        ZH: "预期约 {expected:.2f}s（±{tolerance:.2f}），实际 {actual:.3f}s {mark}",
    },
    "run.expected_output": {EN: "Output as expected {mark}", ZH: "输出与预期一致 {mark}"},
    "run.unexpected_output": {EN: "Output differs from the expected {mark}", ZH: "输出与预期不同 {mark}"},
    "run.expected_status": {
        EN: "Expected it to end as {expected}, it ended as {actual} {mark}",
        ZH: "预期结束状态为 {expected}，实际为 {actual} {mark}",
    },
    "run.blocked": {
        EN: "⚠️ The event loop was blocked for {duration:.3f}s at +{t:.3f}s{where}: nothing else could run.",
        ZH: "⚠️ 事件循环在 +{t:.3f}s{where}被阻塞了 {duration:.3f}s：期间其他任务都无法运行。",
    },
    "run.blocked_line": {EN: " (line {line})", ZH: "（第 {line} 行）"},
    "run.blocked_more": {EN: "⚠️ … and {count} more blocking calls", ZH: "⚠️ … 另有 {count} 次阻塞"},
    "run.timeline": {EN: "Tasks:", ZH: "任务时间线："},
    "run.continued": {
        EN: "(continued here: the original reply expired after 15 minutes)",
        ZH: "（在此继续：原回复已在 15 分钟后过期）",
    },
    "run.stopped": {EN: "Stopping {count} run(s).", ZH: "正在停止 {count} 个运行。"},
    "run.nothing_to_stop": {EN: "You have nothing running or queued.", ZH: "你没有正在运行或排队的示例。"},
    "run.stop_done": {EN: "That run has already finished.", ZH: "该运行已经结束。"},
    "run.stop_ok": {EN: "Stopping your run.", ZH: "正在停止你的运行。"},
    "run.stop_not_yours": {
        EN: "Only the person who started this run can stop it. Start your own with /run.",
        ZH: "只有发起此运行的人才能停止它。你可以用 /run 运行自己的示例。",
    },
    # -- quizzes, study sessions, progress -------------------------------------------------------------------
    "cmd.quiz": {EN: "quiz", ZH: "测验"},
    "cmd.quiz.desc": {EN: "Quiz the channel (or just you) on a lesson", ZH: "就一节课进行测验（全频道或只有你）"},
    "opt.count": {EN: "count", ZH: "题数"},
    "opt.count.desc": {EN: "How many questions (default: all)", ZH: "题目数量（默认全部）"},
    "opt.mode": {EN: "mode", ZH: "模式"},
    "opt.mode.desc": {
        EN: "group: everyone in the channel; solo: only you, privately",
        ZH: "group：频道所有人；solo：仅你自己，私密",
    },
    "opt.speed_bonus": {EN: "speed_bonus", ZH: "速度加分"},
    "opt.speed_bonus.desc": {EN: "Earlier right answers earn extra points", ZH: "越早答对得分越多"},
    "quiz.mode.group": {EN: "group", ZH: "小组"},
    "quiz.mode.solo": {EN: "solo", ZH: "单人"},
    "cmd.study": {EN: "study", ZH: "学习"},
    "cmd.study.desc": {EN: "Study sessions for a group", ZH: "小组学习会"},
    "cmd.study.start": {EN: "start", ZH: "开始"},
    "cmd.study.start.desc": {
        EN: "Start a study session on a lesson; you are the host",
        ZH: "开始一节课的学习会，你是主持人",
    },
    "opt.thread": {EN: "thread", ZH: "子区"},
    "opt.thread.desc": {EN: "Hold it in a new thread (default: yes)", ZH: "在新的子区中进行（默认：是）"},
    "opt.auto_advance": {EN: "auto_advance", ZH: "自动翻页"},
    "opt.auto_advance.desc": {EN: "Move to the next section every N seconds", ZH: "每 N 秒自动进入下一章"},
    "cmd.progress": {EN: "progress", ZH: "进度"},
    "cmd.progress.desc": {EN: "Your lessons, runs and quiz accuracy", ZH: "你的课程、运行次数和测验正确率"},
    "cmd.leaderboard": {EN: "leaderboard", ZH: "排行榜"},
    "cmd.leaderboard.desc": {EN: "Quiz points of this server", ZH: "本服务器的测验积分"},
    "opt.period": {EN: "period", ZH: "时间段"},
    "opt.period.desc": {EN: "week, month or all time (default: week)", ZH: "本周、本月或全部（默认本周）"},
    "board.period.week": {EN: "week", ZH: "本周"},
    "board.period.month": {EN: "month", ZH: "本月"},
    "board.period.all": {EN: "all", ZH: "全部"},
    "board.title": {EN: "🏆 **Leaderboard** ({period})", ZH: "🏆 **排行榜**（{period}）"},
    "board.row": {
        EN: "{rank}. {user} — {points} pts, {correct} right",
        ZH: "{rank}. {user} — {points} 分，答对 {correct} 题",
    },
    "board.empty": {EN: "No quiz answers yet. Start one with /quiz.", ZH: "还没有测验记录。用 /quiz 开始一次吧。"},
    "progress.text": {
        EN: "**Your progress**\nLessons started: {started} · completed: {completed} ({completed_ids})\n"
        "Examples run: {runs} ({ok} finished ok)\nQuiz: {correct}/{answers} right · accuracy {accuracy} · "
        "{points} points",
        ZH: "**你的进度**\n已开始课程：{started} · 已完成：{completed}（{completed_ids}）\n"
        "运行示例：{runs} 次（{ok} 次正常结束）\n测验：答对 {correct}/{answers} · 正确率 {accuracy} · {points} 分",
    },
    "quiz.intro": {
        EN: "🧠 **Quiz: {title}** — {count} question(s), started by {user}. Answer with the buttons; "
        "only you see your answer, and you can change it until the time is up.",
        ZH: "🧠 **测验：{title}** — 共 {count} 题，由 {user} 发起。用按钮作答；只有你能看到自己的答案，"
        "时间结束前可以修改。",
    },
    "quiz.question": {EN: "**Quiz · {title}** — question {n}/{total}", ZH: "**测验 · {title}** — 第 {n}/{total} 题"},
    "quiz.how_choice": {EN: "Pick one answer.", ZH: "选择一个答案。"},
    "quiz.how_multi": {EN: "Pick every right answer in the menu.", ZH: "在菜单中选出所有正确答案。"},
    "quiz.how_order": {
        EN: "Press Answer and type the line numbers in the order the program prints them, e.g. 2 1 3.",
        ZH: "点击“作答”，按程序输出的顺序输入行号，例如 2 1 3。",
    },
    "quiz.how_text": {EN: "Press Answer and type your answer.", ZH: "点击“作答”并输入答案。"},
    "quiz.how_time": {EN: "Press Answer and type the seconds, e.g. 1.5.", ZH: "点击“作答”并输入秒数，例如 1.5。"},
    "quiz.hints": {EN: " · {count} hint(s) (they cost points)", ZH: " · {count} 个提示（会扣分）"},
    "quiz.points": {EN: "{points} points{hints}", ZH: "{points} 分{hints}"},
    "quiz.closes": {EN: "⏱️ closes <t:{when}:R>", ZH: "⏱️ <t:{when}:R>截止"},
    "quiz.solo": {EN: "(solo)", ZH: "（单人）"},
    "quiz.closed": {EN: "⏹️ answers closed", ZH: "⏹️ 作答已截止"},
    "quiz.reveal": {
        EN: "✅ **Question {n}/{total}** — answer: **{answer}**",
        ZH: "✅ **第 {n}/{total} 题** — 答案：**{answer}**",
    },
    "quiz.distribution": {EN: "Answers ({count}): {parts}", ZH: "作答（{count}）：{parts}"},
    "quiz.bonus": {EN: "speed +{points}", ZH: "速度 +{points}"},
    "quiz.hint_cost": {EN: "hints −{points}", ZH: "提示 −{points}"},
    "quiz.scored": {EN: "Scored: {who}", ZH: "得分：{who}"},
    "quiz.nobody": {EN: "Nobody got it this time.", ZH: "这次没有人答对。"},
    "quiz.late": {EN: "{count} late answer(s) not counted.", ZH: "{count} 个迟到的答案未计分。"},
    "quiz.running": {EN: "▶️ running `{example}` to check…", ZH: "▶️ 正在运行 `{example}` 验证…"},
    "quiz.run_failed": {EN: "Could not run the example: {error}", ZH: "无法运行示例：{error}"},
    "quiz.real_run": {
        EN: "▶️ **Predict, then run** — the real output of `{example}`:",
        ZH: "▶️ **先预测，再运行** — `{example}` 的真实输出：",
    },
    "quiz.real_time": {
        EN: "Real time: **{elapsed:.3f} s** ({status})",
        ZH: "实际用时：**{elapsed:.3f} 秒**（{status}）",
    },
    "quiz.predicted_time": {
        EN: "Answer {answer:g} s · measured {elapsed:.3f} s",
        ZH: "答案 {answer:g} 秒 · 实测 {elapsed:.3f} 秒",
    },
    "quiz.final": {EN: "🏁 **Final scores**", ZH: "🏁 **最终得分**"},
    "quiz.board_row": {
        EN: "{rank}. {user} — {points} pts ({right}/{of} right)",
        ZH: "{rank}. {user} — {points} 分（答对 {right}/{of}）",
    },
    "quiz.board_empty": {EN: "Nobody answered.", ZH: "没有人作答。"},
    "quiz.recorded": {
        EN: "Your answer: **{answer}**. You can change it until the window closes <t:{when}:R>.",
        ZH: "你的答案：**{answer}**。截止（<t:{when}:R>）前可以修改。",
    },
    "quiz.changed": {EN: "Answer changed to **{answer}**.", ZH: "答案已改为 **{answer}**。"},
    "quiz.solo_answer": {EN: "Your answer: **{answer}** — revealing…", ZH: "你的答案：**{answer}** — 正在揭晓…"},
    "quiz.modal_title": {EN: "Question {n}", ZH: "第 {n} 题"},
    "quiz.modal_order": {EN: "Line numbers, in printed order", ZH: "按输出顺序填写行号"},
    "quiz.modal_seconds": {EN: "Seconds", ZH: "秒数"},
    "quiz.modal_text": {EN: "Your answer", ZH: "你的答案"},
    "quiz.hint": {
        EN: "💡 {text} (−{cost} points; {left} more hint(s))",
        ZH: "💡 {text}（−{cost} 分；还有 {left} 个提示）",
    },
    "quiz.select": {EN: "Pick every right answer", ZH: "选出所有正确答案"},
    "quiz.answer_button": {EN: "Answer", ZH: "作答"},
    "quiz.hint_button": {EN: "Hint", ZH: "提示"},
    "study.title": {EN: "📚 **Study session: {title}** · `{lesson}`", ZH: "📚 **学习会：{title}** · `{lesson}`"},
    "study.host": {EN: "Host: {host} · {status}", ZH: "主持人：{host} · {status}"},
    "study.status.active": {EN: "🟢 in progress", ZH: "🟢 进行中"},
    "study.status.paused": {EN: "⏸️ paused", ZH: "⏸️ 已暂停"},
    "study.status.ended": {EN: "🏁 ended", ZH: "🏁 已结束"},
    "study.auto": {EN: "Auto-advance: every {seconds:g} s", ZH: "自动翻页：每 {seconds:g} 秒"},
    "study.intro": {
        EN: "{sections} section(s), {questions} quiz question(s). Press Join to take part.",
        ZH: "共 {sections} 章、{questions} 道测验题。点击“加入”参与。",
    },
    "study.members": {EN: "Present ({count}): {who}", ZH: "在场（{count}）：{who}"},
    "study.started": {EN: "Study session started in {where}.", ZH: "学习会已在 {where} 开始。"},
    "study.summary": {EN: "🏁 **Study session ended: {title}**", ZH: "🏁 **学习会结束：{title}**"},
    "study.summary_line": {
        EN: "Duration {duration} · {people} participant(s) · {questions} question(s) · {examples} example run(s)",
        ZH: "时长 {duration} · {people} 位参与者 · {questions} 道题 · 运行示例 {examples} 次",
    },
    "study.member_row": {
        EN: "{user} — {points} pts, {right}/{of} right (accuracy {accuracy})",
        ZH: "{user} — {points} 分，答对 {right}/{of}（正确率 {accuracy}）",
    },
    "study.join": {EN: "Join", ZH: "加入"},
    "study.leave": {EN: "Leave", ZH: "离开"},
    "study.next": {EN: "Next section", ZH: "下一章"},
    "study.run": {EN: "Run example", ZH: "运行示例"},
    "study.quiz": {EN: "Quiz question", ZH: "测验题"},
    "study.pause": {EN: "Pause", ZH: "暂停"},
    "study.resume": {EN: "Resume", ZH: "继续"},
    "study.end": {EN: "End", ZH: "结束"},
    "err.window_closed": {
        EN: "The answer window for this question has closed; wait for the next one.",
        ZH: "这道题的作答时间已结束，请等待下一题。",
    },
    "err.not_host": {
        EN: "Only the session's host (or a server admin) can do that. You can Join or Leave.",
        ZH: "只有学习会的主持人（或服务器管理员）才能这样做。你可以加入或离开。",
    },
    "err.session_ended": {
        EN: "This study session has ended. Start a new one with /study start.",
        ZH: "这个学习会已结束。用 /study start 开始新的学习会。",
    },
    "err.quiz_ended": {
        EN: "This quiz has ended. Start a new one with /quiz.",
        ZH: "这个测验已结束。用 /quiz 开始新的测验。",
    },
    # -- errors ------------------------------------------------------------------------------------------------
    "err.unknown_lesson": {
        EN: "There is no lesson `{lesson}`. Pick one from the suggestions, or list them all with /lessons.",
        ZH: "没有名为 `{lesson}` 的课程。请从建议中选择，或用 /lessons 查看全部课程。",
    },
    "err.unknown_example": {
        EN: "Lesson `{lesson}` has no example `{example}`. Its examples: {examples}.",
        ZH: "课程 `{lesson}` 没有示例 `{example}`。它的示例有：{examples}。",
    },
    "err.user_busy": {
        EN: "You already have an example running or queued. Wait for it to finish, or stop it with /stop.",
        ZH: "你已有一个示例正在运行或排队。请等待它结束，或用 /stop 停止它。",
    },
    "err.queue_full": {
        EN: "The run queue is full ({size} waiting). Try again in a minute.",
        ZH: "运行队列已满（{size} 个在等待）。请一分钟后再试。",
    },
    "err.closed": {
        EN: "corobot is restarting and not taking runs. Try again in a moment.",
        ZH: "corobot 正在重启，暂不接受运行。请稍后再试。",
    },
    "err.rate_limited": {
        EN: "Runs are limited to {runs} per {per:g} seconds for each member. Try again in {retry:.0f}s.",
        ZH: "每 {per:g} 秒最多运行 {runs} 次。请在 {retry:.0f} 秒后再试。",
    },
    "err.not_admin": {
        EN: "Only members with Manage Server or an admin role can reload lessons. Ask one of them.",
        ZH: "只有拥有“管理服务器”权限或管理员角色的成员才能重新加载课程。请联系他们。",
    },
    "err.guild_only": {EN: "Use this command in a server.", ZH: "请在服务器中使用此命令。"},
    "err.generic": {EN: "{message}", ZH: "{message}"},
    "err.unexpected": {
        EN: "Something went wrong on our side (reference `{ref}`). Try again; if it keeps happening, "
        "tell an admin that reference.",
        ZH: "我们这边出错了（参考编号 `{ref}`）。请重试；如果一直出错，请把这个编号告诉管理员。",
    },
    # -- reload and help ---------------------------------------------------------------------------------------
    "reload.loaded": {EN: "Reloaded {count} lesson(s): {ids}", ZH: "已重新加载 {count} 节课程：{ids}"},
    "reload.unchanged": {EN: "No lesson files changed.", ZH: "课程文件没有变化。"},
    "reload.removed": {EN: "Removed: {ids}", ZH: "已移除：{ids}"},
    "reload.total": {EN: "{count} lesson(s) available.", ZH: "共有 {count} 节课程可用。"},
    "reload.errors": {
        EN: "{count} file problem(s) (fix the file, then /reload again):",
        ZH: "{count} 个文件有问题（修正后再次 /reload）：",
    },
    "help.text": {
        EN: "**corobot** teaches Python coroutines by running small asyncio programs and showing when every "
        "line was printed and what each task did.\n"
        "• /lessons — browse the lessons\n"
        "• /lesson — read one: sections, example code, Run buttons\n"
        "• /run — run an example and watch its output live (Stop button to cancel)\n"
        "• /stop — stop your running or queued example\n"
        "• /quiz — a quiz on a lesson (group or solo) · /study start — a study session with a host\n"
        "• /progress — your numbers · /leaderboard — quiz points\n"
        "Start with /lessons, or /lesson and type a few letters of a title.",
        ZH: "**corobot** 通过运行小型 asyncio 程序来讲解 Python 协程，并显示每一行输出的时间以及每个任务做了什么。\n"
        "• /lessons — 浏览课程\n"
        "• /lesson — 阅读一节课：章节、示例代码和“运行”按钮\n"
        "• /run — 运行示例并实时查看输出（可用“停止”按钮取消）\n"
        "• /stop — 停止你正在运行或排队的示例\n"
        "• /quiz — 课程测验（小组或单人）· /study start — 有主持人的学习会\n"
        "• /progress — 你的进度 · /leaderboard — 测验积分\n"
        "从 /lessons 开始，或使用 /lesson 并输入标题中的几个字。",
    },
}


def lang(locale: discord.Locale | str | None) -> str:
    """The string-table language for a Discord locale: Chinese for any `zh*`, else English."""
    tag = str(locale.value if isinstance(locale, discord.Locale) else locale or "")
    return ZH if tag.lower().startswith("zh") else EN


def lesson_locale(locale: discord.Locale | str | None) -> str:
    """The locale tag handed to `Text.get` for lesson text (`zh-CN` -> zh-CN, zh, en)."""
    if isinstance(locale, discord.Locale):
        return locale.value
    return locale or EN


def t(locale: discord.Locale | str | None, key: str, **values: object) -> str:
    """Format the string `key` in the language of `locale` (falls back to English)."""
    entry = STRINGS[key]
    template = entry.get(lang(locale)) or entry[EN]
    return template.format(**values) if values else template


def ls(key: str) -> app_commands.locale_str:
    """A `locale_str` whose message is the English text and whose `key` names the table entry."""
    return app_commands.locale_str(STRINGS[key][EN], key=key)


class StringTableTranslator(app_commands.Translator):
    """Translates command names, descriptions and option names from `STRINGS` (zh-CN only)."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        if not isinstance(key, str) or key not in STRINGS:
            return None
        if locale not in (discord.Locale.chinese, discord.Locale.taiwan_chinese):
            return None
        return STRINGS[key].get(ZH)
