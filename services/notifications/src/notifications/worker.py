"""The notifications service's worker: its outbox relay and its consumers."""

from kit.worker import main as run_worker
from notifications.settings import NotificationsSettings


def main() -> None:
    """Entry point of the notifications worker process."""
    run_worker(NotificationsSettings())


if __name__ == "__main__":
    main()
