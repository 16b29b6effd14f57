"""Pytest fixtures starting the real stand-in servers on free ports with throwaway data."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kit.local import servers
from kit.local.servers import Running, S3Credentials, S3Ports
from kit.mongo import Client, create_client
from kit.settings import KitSettings
from kit.testing.tokens import TestIssuer


@dataclass
class MongoServer:
    """A running Mongo stand-in."""

    uri: str
    running: Running


@dataclass
class KafkaServer:
    """A running Kafka stand-in."""

    bootstrap: str
    running: Running


@dataclass
class S3Server:
    """A running SeaweedFS S3 endpoint with its key pair."""

    endpoint: str
    credentials: S3Credentials
    running: Running


@dataclass
class SmtpServer:
    """A running SMTP sink and where it keeps mail."""

    port: int
    http_port: int
    directory: Path
    running: Running


def start(server: servers.Server, base: Path, timeout_s: float = 60.0) -> Running:
    """Start a server, logging to base/<name>.log, and wait until it listens."""
    running = Running(server, base / f"{server.name}.log")
    try:
        running.wait_ready(timeout_s)
    except BaseException:
        running.stop()
        raise
    return running


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Throwaway data and logs of this run's servers."""
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def mongo_server(servers_dir: Path) -> Iterator[MongoServer]:
    """A SecantusDB server for the whole test session."""
    port = servers.free_port()
    running = start(servers.mongo(port, servers_dir / "mongo"), servers_dir)
    yield MongoServer(servers.mongo_uri(port), running)
    running.stop()


@pytest.fixture(scope="session")
def kafka_server(servers_dir: Path) -> Iterator[KafkaServer]:
    """A noida-db Kafka broker for the whole test session."""
    port = servers.free_port()
    running = start(servers.kafka(port, servers_dir / "kafka"), servers_dir)
    yield KafkaServer(f"127.0.0.1:{port}", running)
    running.stop()


@pytest.fixture(scope="session")
def s3_server(servers_dir: Path) -> Iterator[S3Server]:
    """A SeaweedFS S3 endpoint for the whole test session."""
    ports = S3Ports.free()
    creds = S3Credentials.load_or_create(servers_dir / "s3-secrets.json")
    running = start(servers.s3(ports, servers_dir / "s3", creds), servers_dir)
    yield S3Server(f"127.0.0.1:{ports.s3}", creds, running)
    running.stop()


@pytest.fixture(scope="session")
def smtp_server(servers_dir: Path) -> Iterator[SmtpServer]:
    """The SMTP sink for the whole test session."""
    port, http_port = servers.free_ports(2)
    directory = servers_dir / "mail"
    running = start(servers.smtp(port, http_port, directory), servers_dir)
    yield SmtpServer(port, http_port, directory, running)
    running.stop()


def unique_name(prefix: str = "t") -> str:
    """A database or group name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def kit_settings(mongo_server: MongoServer, kafka_server: KafkaServer) -> KitSettings:
    """Settings pointing at the session's servers, with a database of this test's own."""
    return KitSettings(
        service=unique_name("svc"),
        environment="test",
        mongo_uri=mongo_server.uri,
        kafka_bootstrap=kafka_server.bootstrap,
        kafka_partitions=3,
    )


@pytest.fixture
async def mongo_client(kit_settings: KitSettings) -> AsyncIterator[Client]:
    """A Mongo client for this test; its database is dropped afterwards."""
    client = create_client(kit_settings)
    yield client
    await client.drop_database(kit_settings.database)
    await client.close()


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TestIssuer:
    """Signs test access tokens; point a service's auth_jwks_url at issuer.jwks_path."""
    return TestIssuer(tmp_path_factory.mktemp("jwks"))
