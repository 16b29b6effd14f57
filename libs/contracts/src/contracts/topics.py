"""Topic names: one topic per publishing service, one dead-letter topic per consumer group."""

SERVICES = ("identity", "enrollment", "exams", "evidence", "notifications")
PLATFORM = "platform"


def events_topic(service: str) -> str:
    """The topic a service publishes its events on."""
    return f"{service}.events"


def dead_letter_topic(group: str) -> str:
    """The topic a consumer group parks the messages it cannot handle on."""
    return f"{group}.dlt"


def producer_of(event_type: str) -> str:
    """The service that publishes an event type (the part before the dot)."""
    return event_type.split(".", 1)[0]
