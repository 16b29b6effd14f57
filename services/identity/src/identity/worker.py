"""The identity service's worker: its outbox relay and its consumers."""

from contracts import Event, events_topic
from identity.handlers import handlers
from identity.keys import SigningKeys
from identity.passwords import Passwords
from identity.repository import Repository
from identity.service import Identity
from identity.settings import IdentitySettings
from kit.consumer import Handler
from kit.mongo import Db
from kit.worker import ConsumerSpec
from kit.worker import main as run_worker


def main() -> None:
    """Entry point of the identity worker process."""
    settings = IdentitySettings()
    passwords = Passwords(settings)

    def identity_handlers(db: Db) -> dict[type[Event], Handler]:
        # db.client is the worker's own client: handler sessions must come from the client that runs them.
        return handlers(Identity(db.client, db, settings, passwords, SigningKeys(db, settings)))

    async def indexes(db: Db) -> None:
        await Repository(db).ensure_indexes()

    run_worker(settings, consumers=[ConsumerSpec(group="identity", topics=[events_topic("enrollment")],
                                                 handlers=identity_handlers)], startup=[indexes])


if __name__ == "__main__":
    main()
