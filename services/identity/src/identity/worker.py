"""The identity service's worker: its outbox relay and its consumers."""

from kit.worker import main as run_worker
from identity.settings import IdentitySettings


def main() -> None:
    """Entry point of the identity worker process."""
    run_worker(IdentitySettings())


if __name__ == "__main__":
    main()
