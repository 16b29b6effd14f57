"""Event contracts shared by every service: the envelope, the registry and the topics."""

# Importing the event modules registers their classes.
from contracts import enrollment as enrollment
from contracts import evidence as evidence
from contracts import exams as exams
from contracts import identity as identity
from contracts import notifications as notifications
from contracts import platform as platform
from contracts.envelope import Envelope, Event
from contracts.registry import all_events, lookup, register
from contracts.topics import SERVICES, dead_letter_topic, events_topic, producer_of

__all__ = [
    "SERVICES",
    "Envelope",
    "Event",
    "all_events",
    "dead_letter_topic",
    "events_topic",
    "lookup",
    "producer_of",
    "register",
]
