"""The evidence service's worker: its outbox relay and its consumers."""

from evidence.settings import EvidenceSettings
from kit.worker import main as run_worker


def main() -> None:
    """Entry point of the evidence worker process."""
    run_worker(EvidenceSettings())


if __name__ == "__main__":
    main()
