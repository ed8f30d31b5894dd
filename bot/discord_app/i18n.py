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
        EN: "You can start {runs} runs every {per:g} seconds. Try again in {retry:.0f}s.",
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
        "Start with /lessons, or /lesson and type a few letters of a title.",
        ZH: "**corobot** 通过运行小型 asyncio 程序来讲解 Python 协程，并显示每一行输出的时间以及每个任务做了什么。\n"
        "• /lessons — 浏览课程\n"
        "• /lesson — 阅读一节课：章节、示例代码和“运行”按钮\n"
        "• /run — 运行示例并实时查看输出（可用“停止”按钮取消）\n"
        "• /stop — 停止你正在运行或排队的示例\n"
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
