"""The envelope every event travels in, and the base class of event payloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

TYPE_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class Event(BaseModel):
    """Base of every event payload: frozen, and tolerant of fields added later."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    # The field naming the entity the event is about: the envelope's subject and so the Kafka key,
    # which keeps the events about one entity in order.
    SUBJECT: ClassVar[str]

    def subject_id(self) -> str:
        """The entity this event is about (the value of its SUBJECT field)."""
        field = getattr(type(self), "SUBJECT", None)
        if field is None:
            raise TypeError(f"{type(self).__name__} declares no SUBJECT field; pass the subject explicitly")
        return str(getattr(self, field))

    def school_of(self) -> str | None:
        """The school the event belongs to, when it carries one (its school_id field)."""
        value = getattr(self, "school_id", None)
        return str(value) if value is not None else None


class Envelope(BaseModel):
    """The metadata around an event's data, as it is written to Kafka."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID
    type: str = Field(pattern=TYPE_PATTERN, max_length=120)
    version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str = Field(min_length=1, max_length=60)
    school_id: str | None = Field(default=None, max_length=64)
    subject: str = Field(min_length=1, max_length=200)
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        producer: str,
        subject: str,
        school_id: str | None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Envelope:
        """Put an event payload in a new envelope."""
        return cls(
            event_id=event_id or uuid.uuid4(),
            type=event.TYPE,
            version=event.VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            school_id=school_id,
            subject=subject,
            data=event.model_dump(mode="json"),
        )

    def to_bytes(self) -> bytes:
        """Serialise as UTF-8 JSON, the wire format on Kafka."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse the wire format; raises pydantic.ValidationError on a malformed message."""
        return cls.model_validate_json(raw)
