"""Slot values: what the words a user said mean for a slot type, built-in (AMAZON.*) or custom."""

from altostratus.bots.slot_values.resolve import find_in, resolve

__all__ = ["find_in", "resolve"]
