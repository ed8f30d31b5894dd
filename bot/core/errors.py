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
