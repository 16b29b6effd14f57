"""The overview's seven states, decided from a precomputed cell and the clock. No I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

State = Literal["not_scheduled", "partly_scheduled_not_started", "partly_scheduled_started",
                "fully_scheduled_not_started", "fully_scheduled_started", "passed", "failed"]
STATES: tuple[State, ...] = ("not_scheduled", "partly_scheduled_not_started", "partly_scheduled_started",
                             "fully_scheduled_not_started", "fully_scheduled_started", "passed", "failed")


def cell_state(cell: dict[str, Any] | None, at: datetime) -> State:
    """One cell's state: a result wins; otherwise how many parts are scheduled and whether the first started."""
    if cell is None:
        return "not_scheduled"
    if cell.get("result") in ("passed", "failed"):
        return "passed" if cell["result"] == "passed" else "failed"
    scheduled = cell.get("parts_scheduled") or 0
    if scheduled == 0:
        return "not_scheduled"
    fully = scheduled >= (cell.get("parts_total") or 0)
    started = cell.get("first_start") is not None and cell["first_start"] <= at
    if fully:
        return "fully_scheduled_started" if started else "fully_scheduled_not_started"
    return "partly_scheduled_started" if started else "partly_scheduled_not_started"
