"""The stand-in servers the suite runs on locally, started the same way by `make up` and by tests."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import noida_db

from kit.local.processes import Running

__all__ = ["SERVICES", "Running", "S3Credentials", "S3Ports", "Server"]
SERVICES = ("identity", "enrollment", "exams", "evidence", "notifications")
GATEWAY_ROUTES = Path(__file__).resolve().parents[5] / "gateway" / "routes.yml"
REQUEST_ID_PLUGIN = "github.com/mbo-exam/requestid"  # gateway/plugins-local/src/<this>


@dataclass
class Server:
    """A process to run: its command, the port that tells it is up, and its environment."""

    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    ports: tuple[int, ...] = ()  # every port it binds, for the in-use check
    cwd: Path | None = None

    @property
    def all_ports(self) -> tuple[int, ...]:
        """The ready port plus every other port the server binds."""
        return (self.port, *self.ports)


def bin_path(name: str) -> str:
    """A console script installed next to this interpreter."""
    return str(Path(sys.executable).parent / name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int, avoid: Collection[int] = ()) -> list[int]:
    """count different TCP ports on 127.0.0.1 that nothing listens on right now, none of them in avoid."""
    # Every socket stays bound until all are picked: a port let go at once may be handed out again,
    # and two servers given one port means one of them answers for the other.
    with contextlib.ExitStack() as held:
        ports: list[int] = []
        while len(ports) < count:
            sock = held.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            if (port := int(sock.getsockname()[1])) not in avoid:
                ports.append(port)
        return ports


def port_in_use(port: int) -> bool:
    """True when something already listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def kafka(port: int, data_dir: Path) -> Server:
    """The Kafka-protocol broker (noida-db), started as its binary so its PID is the broker's."""
    binary = Path(noida_db.__file__).parent / "noida-db"
    with contextlib.suppress(OSError):
        binary.chmod(0o755)
    return Server("kafka", [str(binary), "start", "--only", "kafka", "--kafka-port", str(port),
                            "--host", "127.0.0.1", "--data-dir", str(data_dir)], port)


def mongo(port: int, data_dir: Path, *, durable: bool = False) -> Server:
    """The MongoDB-wire server (SecantusDB), a single-node replica set named secantus.

    durable: fsync its write-ahead log on every commit, so a commit it acknowledged survives SIGKILL
    and power loss (`make up`); throwaway test data does without.
    """
    argv = [bin_path("secantusd-py"), "--host", "127.0.0.1", "--port", str(port),
            "--storage-path", str(data_dir), "--log-level", "WARNING"]
    return Server("mongo", argv + (["--sync-on-commit"] if durable else []), port)


def mongo_uri(port: int) -> str:
    """The URI of the local Mongo server; retryable writes off (the stand-in slows down with them)."""
    return f"mongodb://127.0.0.1:{port}/?replicaSet=secantus&retryWrites=false"


@dataclass(frozen=True)
class S3Ports:
    """SeaweedFS opens many ports; each gets its own value so several stacks can coexist."""

    s3: int
    master: int
    volume: int
    filer: int
    admin: int

    @classmethod
    def free(cls, avoid: Collection[int] = ()) -> S3Ports:
        """Free ports for a throwaway stack, none in avoid (its gRPC ports too, which weed puts at +10000)."""
        while True:
            ports = free_ports(5, avoid)
            grpc = [p + 10000 for p in ports]
            if all(g < 65536 and g not in avoid and g not in ports and not port_in_use(g) for g in grpc):
                return cls(*ports)

    def all(self) -> tuple[int, ...]:
        """Every port weed binds, HTTP and gRPC."""
        http = (self.s3, self.master, self.volume, self.filer, self.admin)
        return http + tuple(p + 10000 for p in http)


@dataclass(frozen=True)
class S3Credentials:
    """The access key pair of the local S3 server."""

    access_key: str
    secret_key: str

    @classmethod
    def load_or_create(cls, path: Path) -> S3Credentials:
        """Reuse the key pair kept at path, or make a random one (no fixed secret in code)."""
        data = local_secrets(path, lambda: {"access_key": "local-" + secrets.token_hex(6),
                                            "secret_key": secrets.token_urlsafe(24)})
        return cls(data["access_key"], data["secret_key"])


def local_secrets(path: Path, make: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Secrets of a local stack: read from path, or made once and kept there readable by the owner only."""
    if path.exists():
        loaded: dict[str, str] = json.loads(path.read_text())
        return loaded
    made = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(made))
    path.chmod(0o600)
    return made


def s3(ports: S3Ports, data_dir: Path, creds: S3Credentials) -> Server:
    """SeaweedFS in `weed mini` mode serving the S3 API."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "logs").mkdir(exist_ok=True)
    config = data_dir / "identities.json"
    config.write_text(json.dumps({"identities": [{
        "name": "suite",
        "credentials": [{"accessKey": creds.access_key, "secretKey": creds.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))
    config.chmod(0o600)
    argv = [bin_path("weed"), f"-logdir={data_dir / 'logs'}", "mini", f"-dir={data_dir / 'store'}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.port={ports.s3}", f"-master.port={ports.master}",
            f"-volume.port={ports.volume}", f"-filer.port={ports.filer}", f"-admin.port={ports.admin}",
            "-webdav=false", "-admin.ui=false", "-master.telemetry=false", "-s3.port.iceberg=0",
            "-s3.port.lance=0", f"-s3.config={config}"]
    (data_dir / "store").mkdir(exist_ok=True)
    return Server("s3", argv, ports.s3, ports=ports.all()[1:])


def smtp(port: int, http_port: int, data_dir: Path) -> Server:
    """The SMTP sink that keeps every message it receives, with a small read API."""
    return Server("smtp", [sys.executable, "-m", "kit.local.smtp_sink", "--port", str(port),
                           "--http-port", str(http_port), "--dir", str(data_dir)], port, ports=(http_port,))


def gateway(port: int, upstreams: dict[str, str], limits: dict[str, str] | None = None) -> Server:
    """Traefik routing /<service> to each service's upstream URL, with the suite's request-id plugin.

    limits: GATEWAY_* rate settings of gateway/routes.yml to override (e.g. a test's small limits).
    """
    env = {f"GATEWAY_{name.upper()}_URL": url for name, url in upstreams.items()} | (limits or {})
    argv = [bin_path("traefik"), f"--entryPoints.web.address=127.0.0.1:{port}",
            # Large evidence uploads may take long on slow links; the services enforce their own limits.
            "--entryPoints.web.transport.respondingTimeouts.readTimeout=3600s",
            # Traefik loads local plugins from ./plugins-local, hence the working directory below.
            f"--experimental.localPlugins.requestid.moduleName={REQUEST_ID_PLUGIN}",
            f"--providers.file.filename={GATEWAY_ROUTES}", "--global.checkNewVersion=false",
            "--global.sendAnonymousUsage=false", "--log.level=WARN", "--log.noColor=true"]
    return Server("gateway", argv, port, env=env, cwd=GATEWAY_ROUTES.parent)
