"""The whole suite as a list of processes: infrastructure, every service's api and worker, the gateway."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kit.local import servers
from kit.local.servers import SERVICES, S3Credentials, S3Ports, Server

DEFAULT_PORTS = {
    "gateway": 8080,
    "identity": 8101,
    "enrollment": 8102,
    "exams": 8103,
    "evidence": 8104,
    "notifications": 8105,
    "web": 8100,
    "mongo": 27017,
    "kafka": 9092,
    "s3": 8333,
    "s3_master": 9333,
    "s3_volume": 9340,
    "s3_filer": 8888,
    "s3_admin": 23646,
    "smtp": 1025,
    "smtp_http": 8025,
}


@dataclass
class Stack:
    """Ports and data folder of one running suite (`make up`, or a throwaway one in e2e tests)."""

    ports: dict[str, int]
    data_dir: Path

    @classmethod
    def from_env(cls, data_dir: Path) -> Stack:
        """Default ports, each overridable by MBO_PORT_<NAME> (e.g. MBO_PORT_GATEWAY=8081)."""
        ports = {name: int(os.environ.get(f"MBO_PORT_{name.upper()}", port))
                 for name, port in DEFAULT_PORTS.items()}
        return cls(ports, data_dir)

    @classmethod
    def throwaway(cls, data_dir: Path) -> Stack:
        """Free ports for every process, for tests that run beside `make up`."""
        names = [name for name in DEFAULT_PORTS if not name.startswith("s3")]
        ports = dict(zip(names, servers.free_ports(len(names)), strict=True))
        s3 = S3Ports.free(avoid=ports.values())
        ports.update(s3=s3.s3, s3_master=s3.master, s3_volume=s3.volume, s3_filer=s3.filer,
                     s3_admin=s3.admin)
        return cls(ports, data_dir)

    @property
    def s3_ports(self) -> S3Ports:
        """The SeaweedFS ports."""
        p = self.ports
        return S3Ports(p["s3"], p["s3_master"], p["s3_volume"], p["s3_filer"], p["s3_admin"])

    @property
    def gateway_url(self) -> str:
        """Where people and e2e tests reach the suite."""
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def credentials(self) -> S3Credentials:
        """The local S3 key pair, made once per data folder."""
        return S3Credentials.load_or_create(self.data_dir / "secrets" / "s3.json")

    def identity_secrets(self) -> dict[str, str]:
        """The local operator login and the key that seals token signing keys, made once per data folder."""
        return servers.local_secrets(self.data_dir / "secrets" / "identity.json", lambda: {
            "OPERATOR_EMAIL": "operator@platform.example",
            "OPERATOR_PASSWORD": "op-" + secrets.token_urlsafe(12),
            "SIGNING_KEYS_SECRET": secrets.token_urlsafe(32)})

    def service_env(self, service: str) -> dict[str, str]:
        """The environment of a service's api and worker processes."""
        creds = self.credentials()
        extra = self.identity_secrets() if service == "identity" else {}
        return {
            **extra,
            "ENVIRONMENT": "local",
            "MONGO_URI": servers.mongo_uri(self.ports["mongo"]),
            "KAFKA_BOOTSTRAP": f"127.0.0.1:{self.ports['kafka']}",
            "KAFKA_PARTITIONS": "3",
            "S3_ENDPOINT": f"127.0.0.1:{self.ports['s3']}",
            "S3_ACCESS_KEY": creds.access_key,
            "S3_SECRET_KEY": creds.secret_key,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.ports["smtp"]),
            "PUBLIC_URL": self.gateway_url,
            "S3_PUBLIC_URL": self.gateway_url,  # presigned S3 URLs go through the gateway's host
            "AUTH_JWKS_URL": f"http://127.0.0.1:{self.ports['identity']}/.well-known/jwks.json",
            "OTEL_SERVICE_NAME": service,
            # The gateway's request id on each request span, beside the correlation id in every log line.
            "OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST": "x-request-id",
            "PYTHONUNBUFFERED": "1",
        }

    def infrastructure(self) -> list[Server]:
        """Kafka, Mongo, S3 and the SMTP sink."""
        d = self.data_dir
        return [
            servers.kafka(self.ports["kafka"], d / "kafka"),
            servers.mongo(self.ports["mongo"], d / "mongo", durable=True),
            servers.s3(self.s3_ports, d / "s3", self.credentials()),
            servers.smtp(self.ports["smtp"], self.ports["smtp_http"], d / "mail"),
        ]

    def api(self, name: str, env: Mapping[str, str] | None = None) -> Server:
        """One service's api (uvicorn) on its port; `env` adds to or overrides the service's environment."""
        return Server(f"{name}-api", [
            sys.executable, "-m", "uvicorn", "--factory", f"{name}.app:create_app",
            "--host", "127.0.0.1", "--port", str(self.ports[name]), "--no-access-log",
            "--timeout-graceful-shutdown", "5",
        ], self.ports[name], env={**self.service_env(name), **(env or {})})

    def worker(self, name: str, env: Mapping[str, str] | None = None) -> Server:
        """One service's worker; `env` adds to or overrides the service's environment."""
        return Server(f"{name}-worker", [sys.executable, "-m", f"{name}.worker"], 0,
                      env={**self.service_env(name), **(env or {})})

    def services(self) -> list[Server]:
        """Every service's api (uvicorn) and worker."""
        return [server for name in SERVICES for server in (self.api(name), self.worker(name))]

    def web(self) -> Server:
        """The web app (pages at /), calling each API at its own address."""
        env = {**self.service_env("web"), **{f"{n.upper()}_URL": f"http://127.0.0.1:{self.ports[n]}" for n in SERVICES}}
        return Server("web", [
            sys.executable, "-m", "uvicorn", "--factory", "web.app:create_app", "--host", "127.0.0.1",
            "--port", str(self.ports["web"]), "--no-access-log", "--timeout-graceful-shutdown", "5",
        ], self.ports["web"], env=env)

    def gateway(self) -> Server:
        """Traefik in front of the five APIs and the web app."""
        upstreams = {n: f"http://127.0.0.1:{self.ports[n]}" for n in SERVICES}
        upstreams["web"] = f"http://127.0.0.1:{self.ports['web']}"
        upstreams["s3"] = f"http://127.0.0.1:{self.ports['s3']}"  # presigned downloads (GATEWAY_S3_URL)
        return servers.gateway(self.ports["gateway"], upstreams)

    def all(self) -> list[Server]:
        """Every process of the suite, infrastructure first."""
        return [*self.infrastructure(), *self.services(), self.web(), self.gateway()]

    def stages(self) -> list[list[Server]]:
        """Start order: servers, workers, APIs, gateway (and stop order its reverse)."""
        infrastructure, gateway = self.infrastructure(), self.gateway()
        edges = {s.name for s in infrastructure} | {gateway.name}
        rest = [s for s in self.all() if s.name not in edges]
        return [infrastructure, [s for s in rest if s.name.endswith("-worker")],
                [s for s in rest if not s.name.endswith("-worker")], [gateway]]
