"""Events published by the notifications service (topic notifications.events)."""

from pydantic import Field

from contracts.envelope import Event
from contracts.registry import register


@register
class MessageSentV1(Event):
    """A message was sent; evidence lets its recipients download the attachments (never the body here)."""

    TYPE = "notifications.message_sent"
    VERSION = 1
    SUBJECT = "message_id"
    message_id: str
    school_id: str
    sender_id: str
    recipient_ids: list[str] = Field(min_length=1)
    attachment_ids: list[str] = Field(default_factory=list)
