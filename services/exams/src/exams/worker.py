"""The exams service's worker: its outbox relay and its consumers."""

from exams.settings import ExamsSettings
from kit.worker import main as run_worker


def main() -> None:
    """Entry point of the exams worker process."""
    run_worker(ExamsSettings())


if __name__ == "__main__":
    main()
