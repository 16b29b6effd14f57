"""The enrollment service's worker: its outbox relay and its consumers."""

from enrollment.settings import EnrollmentSettings
from kit.worker import main as run_worker


def main() -> None:
    """Entry point of the enrollment worker process."""
    run_worker(EnrollmentSettings())


if __name__ == "__main__":
    main()
