"""The exams service's worker: its outbox relay and the consumer of identity, enrollment and evidence events."""

from contracts import events_topic
from exams.app import ensure_indexes
from exams.projections.handlers import build_handlers
from exams.settings import ExamsSettings
from kit.worker import ConsumerSpec
from kit.worker import main as run_worker


def consumers(settings: ExamsSettings) -> list[ConsumerSpec]:
    """What the exams worker consumes."""
    return [ConsumerSpec(group=settings.service, topics=[events_topic("identity"), events_topic("enrollment"),
                                                             events_topic("evidence")],
                         handlers=build_handlers)]


def main() -> None:
    """Entry point of the exams worker process."""
    settings = ExamsSettings()
    run_worker(settings, consumers=consumers(settings), startup=[ensure_indexes])


if __name__ == "__main__":
    main()
