"""The identity service's worker: its outbox relay and its consumers."""

from identity.settings import IdentitySettings
from kit.worker import main as run_worker


def main() -> None:
    """Entry point of the identity worker process."""
    run_worker(IdentitySettings())


if __name__ == "__main__":
    main()
