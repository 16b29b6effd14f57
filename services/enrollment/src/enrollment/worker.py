"""The enrollment service's worker: its outbox relay and its consumers of identity's events."""

from contracts import events_topic
from enrollment.handlers import handlers
from enrollment.repository import ensure_indexes
from enrollment.settings import EnrollmentSettings
from kit.worker import ConsumerSpec
from kit.worker import main as run_worker

CONSUMERS = [ConsumerSpec(group="enrollment", topics=[events_topic("identity")], handlers=handlers)]


def main() -> None:
    """Entry point of the enrollment worker process."""
    run_worker(EnrollmentSettings(), consumers=CONSUMERS, startup=[ensure_indexes])


if __name__ == "__main__":
    main()
