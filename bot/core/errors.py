"""One hierarchy of domain errors.  Front-ends translate these into friendly replies."""

from __future__ import annotations


class CorobotError(Exception):
    """Base class: the message is safe to show to a user as-is."""


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
        super().__init__(f"no lesson with id {lesson_id!r}")


class UnknownExample(CorobotError):
    def __init__(self, lesson_id: str, example_id: str) -> None:
        self.lesson_id = lesson_id
        self.example_id = example_id
        super().__init__(f"lesson {lesson_id!r} has no example {example_id!r}")


class RunnerError(CorobotError):
    """The runner cannot take this run."""


class UserBusy(RunnerError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"you already have {limit} example(s) running or queued; wait for it to finish or stop it")


class QueueFull(RunnerError):
    def __init__(self, size: int) -> None:
        self.size = size
        super().__init__(f"the run queue is full ({size} waiting); try again in a moment")


class RunnerClosed(RunnerError):
    def __init__(self) -> None:
        super().__init__("the runner is shutting down; try again after the restart")


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
    def params(self) -> dict[str, str]:
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
    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else " (try Europe/Paris or UTC+8)"
        super().__init__(f"unknown time zone {name!r}{hint}")
