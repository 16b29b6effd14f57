"""The identity service's worker: its outbox relay and its consumers."""

from contracts import events_topic
from identity import repository as repo
from identity.handlers import build_handlers
from identity.settings import IdentitySettings
from kit.worker import ConsumerSpec
from kit.worker import main as run_worker


def main() -> None:
    """Entry point of the identity worker process."""
    settings = IdentitySettings()
    run_worker(settings, consumers=[ConsumerSpec(group="identity", topics=[events_topic("enrollment")],
                                                 handlers=build_handlers(settings))],
               startup=[repo.ensure_indexes])


if __name__ == "__main__":
    main()
