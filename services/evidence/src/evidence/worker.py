"""The evidence service's worker: its outbox relay and its consumers."""

from kit.worker import main as run_worker
from evidence.settings import EvidenceSettings


def main() -> None:
    """Entry point of the evidence worker process."""
    run_worker(EvidenceSettings())


if __name__ == "__main__":
    main()
