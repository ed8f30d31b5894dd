"""The terminal front-end (rich): an interactive console and the renderings `corobot run` shares."""

from bot.console.app import ConsoleApp, LineReader, show_run

__all__ = ["ConsoleApp", "LineReader", "show_run"]
