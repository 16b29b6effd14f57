"""The registry of known event classes, keyed by (type, version)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from contracts.envelope import Event

E = TypeVar("E", bound=type[Event])

_REGISTRY: dict[tuple[str, int], type[Event]] = {}


def register(cls: E) -> E:
    """Class decorator: make an event class known by its TYPE and VERSION."""
    key = (cls.TYPE, cls.VERSION)
    existing = _REGISTRY.get(key)
    if existing is not None and existing is not cls:
        raise ValueError(f"event {key} is registered twice")
    _REGISTRY[key] = cls
    return cls


def lookup(event_type: str, version: int) -> type[Event] | None:
    """The class for a type and version, or None when this code does not know it."""
    return _REGISTRY.get((event_type, version))


def all_events() -> Iterator[type[Event]]:
    """Every registered event class, sorted by type and version."""
    for key in sorted(_REGISTRY):
        yield _REGISTRY[key]
