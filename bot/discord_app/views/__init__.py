"""Buttons and the messages that carry them (catalogue pages, lesson pages, run controls)."""
