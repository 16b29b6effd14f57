"""The exams service's worker: its outbox relay, the consumer of identity, enrollment, evidence and its own
events, and the audit trail's consumer of its own events."""

from collections.abc import Mapping

from contracts import Event, events_topic
from exams.app import ensure_indexes
from exams.audit.handlers import build_handlers as audit_handlers
from exams.projections.handlers import build_handlers
from exams.results import handlers as results_handlers
from exams.settings import ExamsSettings
from kit.consumer import Handler
from kit.mongo import Db
from kit.outbox import Outbox
from kit.worker import ConsumerSpec
from kit.worker import main as run_worker


def handlers(db: Db, outbox: Outbox) -> Mapping[type[Event], Handler]:
    """The handlers of the exams worker's main group: projections, and what reacts to exams' own events."""
    table = dict(build_handlers(db))
    return table


def consumers(settings: ExamsSettings) -> list[ConsumerSpec]:
    """What the exams worker consumes."""
    return [ConsumerSpec(group=settings.service, topics=[events_topic("identity"), events_topic("enrollment"),
                                                             events_topic("evidence"), events_topic("exams")],
                         handlers=handlers),
            # results: a group of its own, so computing a result never queues behind projection or audit work
            ConsumerSpec(group=f"{settings.service}-results", topics=[events_topic("exams")],
                         handlers=results_handlers.build_handlers),
            # the audit trail: a group of its own on the service's own topic (exams.events in production); a handler
            # table maps each event class to one handler, and results consumes some of the audited events too
            ConsumerSpec(group=f"{settings.service}-audit", topics=[events_topic(settings.service)],
                         handlers=audit_handlers)]


def main() -> None:
    """Entry point of the exams worker process."""
    settings = ExamsSettings()
    run_worker(settings, consumers=consumers(settings), startup=[ensure_indexes])


if __name__ == "__main__":
    main()
