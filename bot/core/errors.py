"""One hierarchy of domain errors: what went wrong as data, worded by the front-end in the user's language.

Every `CorobotError` has a `message_id` (an entry of the text catalog in `bot/locales/`) and `params` that fill
it; the core writes no sentence for users.  A few errors are diagnostics for lesson authors and operators
(config, lesson files, the runner's internals): they carry an English `detail` and the id `error.detail`,
which every language shows as the detail itself.  `str(error)` is for logs and the operator's terminal: the
detail when there is one (a storage error's is what failed, where and what to do).
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
    """Base class: `CorobotError("an English diagnostic")`, or `message_id=` with `params` for the catalog.

    A subclass may fix its id as a class attribute (`message_id = "storage.full"`) and compute `params`.
    `detail` (English, possibly empty) is what an operator's terminal and the logs show."""

    message_id: str = DETAIL

    def __init__(
        self, detail: str = "", /, *, message_id: str | None = None, params: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(detail or message_id or self.message_id)
        self.detail = detail
        if message_id is not None:
            self.message_id = message_id
        self._params: dict[str, object] = dict(params) if params is not None else {}

    @property
    def params(self) -> dict[str, object]:
        return {"detail": self.detail} if self.message_id == DETAIL else self._params

    def __str__(self) -> str:
        if self.detail:
            return self.detail
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


# --- storage --------------------------------------------------------------------------------------------


class StorageError(CorobotError):
    """The database could not do what was asked.

    `str()` is for the operator's log: what failed, where (the file, or the server URL without its
    password), the cause, and what to do.  Front-ends show users `message_id` (with `params`) instead, e.g.
    "couldn't save, try again" for a `retryable` error; nothing committed before the error is ever lost.
    """

    message_id = "storage.failed"
    retryable = False  # True: the same request may succeed once the fault clears (disk freed, lock released)
    default_hint = ""

    def __init__(self, operation: str, target: str, cause: str, hint: str | None = None) -> None:
        self.operation = operation
        self.target = target
        self.cause = cause
        self.hint = self.default_hint if hint is None else hint
        message = f"cannot {operation}: {target}: {cause}"
        super().__init__(f"{message}. {self.hint}" if self.hint else message)

    @property
    def params(self) -> dict[str, object]:
        return {"operation": self.operation, "target": self.target, "cause": self.cause}


class StorageUnavailable(StorageError):
    """Not open, or the database server cannot be reached."""

    message_id = "storage.unavailable"
    retryable = True


class StorageFull(StorageError):
    message_id = "storage.full"
    retryable = True
    default_hint = "Free space on that disk; writes resume by themselves and nothing committed is lost"


class StorageReadOnly(StorageError):
    message_id = "storage.read_only"
    retryable = True
    default_hint = (
        "Make the file and its folder writable again (or remount the file system read-write); "
        "reads keep working and nothing committed is lost"
    )


class StorageBusy(StorageError):
    """Another process holds a write lock for longer than the storage's busy timeout."""

    message_id = "storage.busy"
    retryable = True
    default_hint = "Another process holds a write lock on the database; writes resume when it lets go"


class StorageCorrupt(StorageError):
    message_id = "storage.corrupt"
    default_hint = (
        "Stop corobot, move the file aside (keep it) and restore the latest backup "
        "(README: Backup and restore); the file was left untouched"
    )


class StorageSchemaError(StorageError):
    """The database's schema is newer than this corobot knows, or not corobot's."""

    message_id = "storage.schema"


class StorageConflict(StorageError):
    """A uniqueness rule refused the write, e.g. a second active study session in one channel."""

    message_id = "storage.conflict"


class UnknownTimezone(CorobotError):
    """A time zone name no zone database knows; `suggestions` are close ones (maybe none)."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        message_id = "review.unknown_timezone" if suggestions else "review.unknown_timezone_none"
        super().__init__(message_id=message_id, params={"name": quoted(name), "suggestions": suggestions})
