"""One hierarchy of domain errors: what went wrong as data, worded by the front-end in the user's language.

Every `CorobotError` has a `message_id` (an entry of the text catalog in `bot/locales/`) and `params` that fill
it; the core writes no sentence for users.  A few errors are diagnostics for lesson authors and operators
(config, lesson files, storage, the runner's internals): they carry an English `detail` and the id
`error.detail`, which every language shows as the detail itself.  `str(error)` is for logs.
"""

from __future__ import annotations

from collections.abc import Mapping

DETAIL = "error.detail"
QUOTE_LIMIT = 60  # characters of a member's own input an error may quote


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """At most `limit` characters of what a member typed, for an error to quote (whatever they sent)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CorobotError(Exception):
    """Base class: `CorobotError("an English diagnostic")`, or `message_id=` with `params` for the catalog."""

    def __init__(
        self, detail: str = "", /, *, message_id: str = DETAIL, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(detail or message_id)
        self.message_id = message_id
        self.params: dict[str, object] = {"detail": detail} if message_id == DETAIL else dict(params or {})

    def __str__(self) -> str:
        if self.message_id == DETAIL:
            return str(self.params["detail"])
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.message_id}({shown})"


class ConfigError(CorobotError):
    """Settings are invalid (names the file/variable and the reason)."""


class LessonError(CorobotError):
    """A lesson file is invalid.  `str()` is `file:line:col: message`."""

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        where = path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


class UnknownLesson(CorobotError):
    def __init__(self, lesson_id: str) -> None:
        self.lesson_id = lesson_id
        super().__init__(message_id="lesson.unknown", params={"lesson": quoted(lesson_id)})


class UnknownExample(CorobotError):
    def __init__(self, lesson_id: str, example_id: str) -> None:
        self.lesson_id = lesson_id
        self.example_id = example_id
        super().__init__(
            message_id="lesson.unknown_example", params={"lesson": lesson_id, "example": quoted(example_id)}
        )


class RunnerError(CorobotError):
    """The runner cannot take this run."""


class UserBusy(RunnerError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(message_id="run.user_busy", params={"count": limit})


class QueueFull(RunnerError):
    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(message_id="run.queue_full", params={"count": size})


class RunnerClosed(RunnerError):
    def __init__(self) -> None:
        super().__init__(message_id="run.closed")
