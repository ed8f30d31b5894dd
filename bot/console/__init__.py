"""The terminal front-end (rich): an interactive console and the renderings `corobot run` shares."""

from bot.console.app import ConsoleApp, LineReader, run_example

__all__ = ["ConsoleApp", "LineReader", "run_example"]
