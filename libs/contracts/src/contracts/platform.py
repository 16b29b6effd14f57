"""Events that belong to the platform itself rather than to one domain."""

from datetime import datetime

from pydantic import Field

from contracts.envelope import Event
from contracts.registry import register


@register
class ProbeSentV1(Event):
    """A synthetic probe sent through the event backbone to measure it end to end."""

    TYPE = "platform.probe_sent"
    VERSION = 1
    SUBJECT = "probe_id"

    probe_id: str = Field(max_length=64)
    sent_at: datetime
    note: str | None = Field(default=None, max_length=200)
