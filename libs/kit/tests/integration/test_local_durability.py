"""`make up`'s Mongo-wire server keeps every commit it acknowledged, even when killed with SIGKILL."""

from __future__ import annotations

from pathlib import Path

from pymongo import MongoClient

from kit.local import servers
from kit.local.stack import Stack
from kit.testing.fixtures import start

COMMITS = 300


def test_make_up_mongo_keeps_acknowledged_commits_through_sigkill(tmp_path: Path) -> None:
    stack = Stack.throwaway(tmp_path / "data")
    (mongo,) = [s for s in stack.infrastructure() if s.name == "mongo"]  # exactly as `make up` starts it
    running = start(mongo, tmp_path)
    uri = servers.mongo_uri(mongo.port)
    try:
        with MongoClient(uri) as client:
            for i in range(COMMITS):  # each one acknowledged to the client before the next begins
                with client.start_session() as session, session.start_transaction():
                    client.probe.commits.insert_one({"_id": i}, session=session)
        running.kill()  # no chance to flush anything
        running = start(mongo, tmp_path)
        with MongoClient(uri) as client:
            kept = client.probe.commits.count_documents({})
        assert kept == COMMITS, f"{COMMITS - kept} acknowledged commits lost"
    finally:
        running.stop()
