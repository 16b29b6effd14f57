"""Keeps the deployment artefacts honest without Docker or a cluster.

The Dockerfile, docker-compose.yml and deploy/k8s cannot run on the development machine, so these tests
check what can be checked statically: every service has an api and a worker everywhere, the gateway routes
are those of gateway/routes.yml, every environment variable is one the code reads, no secret is committed,
kustomize references resolve, and the image installs no stand-in server or dev tool.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from kit.local.servers import SERVICES
from kit.local.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
API_PORT = 8000
STANDARD_ENV = {"FORWARDED_ALLOW_IPS"}  # read by uvicorn itself (trusted proxy addresses)


# ---------------------------------------------------------------------------------------------- helpers


def load_all(path: Path) -> list[dict[str, Any]]:
    """Every YAML document in a file, empty ones left out."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def compose() -> dict[str, Any]:
    """docker-compose.yml, with its anchors and merge keys resolved."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def base_objects() -> list[dict[str, Any]]:
    """Every object the kustomize base lists in its resources."""
    kustomization = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in load_all(K8S / "base" / name)]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of that kind and name."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def route_prefixes() -> list[str]:
    """The service prefixes gateway/routes.yml (a Traefik template) routes, each with its prefix stripped."""
    text = (ROOT / "gateway" / "routes.yml").read_text()
    ranges = re.findall(r"range \$svc := list ((?:\"[a-z-]+\"\s*)+)", text)
    assert ranges, "gateway/routes.yml no longer ranges over the services"
    names = re.findall(r"\"([a-z-]+)\"", ranges[0])
    assert "PathPrefix(`/{{ $svc }}`)" in text and 'prefixes: ["/{{ $svc }}"]' in text
    return names


def literals(entries: list[str]) -> dict[str, str]:
    """A configMapGenerator's KEY=value literals as a dict."""
    return dict(entry.split("=", 1) for entry in entries)


def config_literals(kustomization: Path) -> dict[str, str]:
    """The suite-config literals one kustomization sets."""
    data = yaml.safe_load(kustomization.read_text())
    found = [g for g in data.get("configMapGenerator", []) if g["name"] == "suite-config"]
    return literals(found[0]["literals"]) if found else {}


def settings_classes() -> Iterator[type[BaseSettings]]:
    """kit's settings and every service's settings classes."""
    modules = ["kit.settings", *(f"{service}.settings" for service in SERVICES), "web.settings"]
    for module in map(importlib.import_module, modules):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseSettings) and cls is not BaseSettings:
                yield cls


def settings_env_names() -> set[str]:
    """Every environment variable a settings class reads (pydantic-settings: the field name, upper-cased)."""
    return {name.upper() for cls in settings_classes() for name in cls.model_fields}


def secret_names() -> set[str]:
    """Names whose values are secrets: SecretStr fields, keys, passwords, and Mongo URIs (they carry credentials)."""
    typed = {name.upper() for cls in settings_classes() for name, field in cls.model_fields.items()
             if SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ()))}
    named = {n for n in settings_env_names() if re.search(r"SECRET|PASSWORD|_KEY$", n)}
    return typed | named | {"MONGO_URI", "OPERATOR_EMAIL"}


@pytest.fixture(scope="module")
def known_env(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Names a deployment may set: read by a settings class, set by the local stack, or standard OTel/uvicorn."""
    local = set(Stack.from_env(tmp_path_factory.mktemp("stack")).service_env("identity"))
    return settings_env_names() | local | STANDARD_ENV


def is_known(name: str, known: set[str]) -> bool:
    """True for a name the code (or the OTel SDK) reads."""
    return name in known or name.startswith("OTEL_")


# ---------------------------------------------------------------------------------------------- compose


def test_compose_runs_an_api_and_a_worker_per_service_from_the_one_image() -> None:
    services = compose()["services"]
    for name in SERVICES:
        api, worker = services[f"{name}-api"], services[f"{name}-worker"]
        assert api["build"] == worker["build"] == "."
        assert api["command"][:5] == ["python", "-m", "uvicorn", "--factory", f"{name}.app:create_app"]
        assert api["command"][api["command"].index("--port") + 1] == str(API_PORT)
        assert worker["command"] == ["python", "-m", f"{name}.worker"]
        probe = " ".join(api["healthcheck"]["test"])
        assert f":{API_PORT}/readyz" in probe
        for process in (api, worker):
            assert process["depends_on"]["mongo"]["condition"] == "service_healthy"
            assert process["depends_on"]["kafka"]["condition"] == "service_healthy"
            assert process["environment"]["ENVIRONMENT"] == "production"
            assert process["read_only"] is True


def test_compose_kafka_is_one_kraft_broker_with_a_valid_cluster_id() -> None:
    env = compose()["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert compose()["services"]["identity-api"]["environment"]["KAFKA_BOOTSTRAP"] == "kafka:9092"
    # Kafka formats its storage with this id and refuses anything but a base64 (URL-safe) 16-byte UUID.
    assert len(base64.urlsafe_b64decode(env["CLUSTER_ID"] + "==")) == 16 and len(env["CLUSTER_ID"]) == 22


def test_compose_publishes_only_the_gateway() -> None:
    published = {name for name, service in compose()["services"].items() if service.get("ports")}
    assert published == {"gateway"}


def test_compose_gateway_serves_routes_yml_itself_pointing_at_every_api() -> None:
    gateway = compose()["services"]["gateway"]
    mounts = [volume.split(":")[0] for volume in gateway["volumes"]]
    assert "./gateway/routes.yml" in mounts
    for name in route_prefixes():
        assert gateway["environment"][f"GATEWAY_{name.upper()}_URL"] == f"http://{name}-api:{API_PORT}"
    # identity believes X-Forwarded-For only from the gateway's fixed address.
    proxies = yaml.safe_load(compose()["services"]["identity-api"]["environment"]["TRUSTED_PROXIES"])
    assert proxies == [gateway["networks"]["suite"]["ipv4_address"]]


def test_compose_sets_only_variables_the_services_read(known_env: set[str]) -> None:
    services = compose()["services"]
    for name in SERVICES:
        for process in (f"{name}-api", f"{name}-worker"):
            unknown = {n for n in services[process]["environment"] if not is_known(n, known_env)}
            assert not unknown, f"{process} sets variables nothing reads: {unknown}"


def test_compose_gives_every_endpoint_and_identity_its_secrets() -> None:
    services = compose()["services"]
    for name in SERVICES:
        env = services[f"{name}-api"]["environment"]
        assert {"MONGO_URI", "KAFKA_BOOTSTRAP", "AUTH_JWKS_URL"} <= set(env)
        assert env["AUTH_JWKS_URL"].startswith(f"http://identity-api:{API_PORT}/")
    assert {"OPERATOR_EMAIL", "OPERATOR_PASSWORD", "SIGNING_KEYS_SECRET", "PUBLIC_URL"} <= set(
        services["identity-api"]["environment"])
    assert {"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY"} <= set(services["evidence-api"]["environment"])


def service_env_names(service: str) -> set[str]:
    """The variables one service's own settings class reads (inherited kit settings included)."""
    module = importlib.import_module(f"{service}.settings")
    classes = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
               if issubclass(cls, BaseSettings) and cls.__module__ == module.__name__]
    return {name.upper() for cls in classes for name in cls.model_fields}


def test_compose_gives_each_secret_only_to_the_service_that_reads_it() -> None:
    services = compose()["services"]
    for name in SERVICES:
        for process in (f"{name}-api", f"{name}-worker"):
            extra = (set(services[process]["environment"]) & secret_names()) - service_env_names(name)
            assert not extra, f"{process} gets secrets it does not read: {extra}"


def test_compose_takes_every_secret_from_the_env_file_and_commits_none() -> None:
    secrets = secret_names() - {"MONGO_URI"}  # compose's Mongo has no credentials (internal network only)
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if key in secrets:
                assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", str(value)), f"{name}: {key} is not from .env"
    example = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    needed = {"S3_ACCESS_KEY", "S3_SECRET_KEY", "OPERATOR_EMAIL", "OPERATOR_PASSWORD", "SIGNING_KEYS_SECRET"}
    assert needed <= set(example)
    for key, value in example.items():
        assert "replace-me" in value or value.endswith("@example.org"), f".env.example holds a real-looking {key}"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


# ---------------------------------------------------------------------------------------------- k8s


def test_kustomize_references_resolve() -> None:
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    for name in base["resources"]:
        assert (K8S / "base" / name).is_file(), name
    objects = base_objects()
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for overlay in OVERLAYS:
        data = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
        assert data["resources"] == ["../../base"]
        for patch in data.get("patches", []):
            assert (patch["target"]["kind"], patch["target"]["name"]) in names, f"{overlay}: {patch['target']}"
        for replica in data.get("replicas", []):
            assert ("Deployment", replica["name"]) in names, f"{overlay}: {replica['name']}"
        for generator in data.get("configMapGenerator", []):
            assert generator["name"] == "suite-config" and generator["behavior"] == "merge"
        assert [i["name"] for i in data["images"]] == ["mbo-exam-suite"]


def test_k8s_runs_an_api_and_a_worker_per_service_safely() -> None:
    objects = base_objects()
    for name in SERVICES:
        api = find(objects, "Deployment", f"{name}-api")["spec"]["template"]["spec"]
        worker = find(objects, "Deployment", f"{name}-worker")["spec"]["template"]["spec"]
        api_container, worker_container = api["containers"][0], worker["containers"][0]
        assert api_container["command"][:5] == ["python", "-m", "uvicorn", "--factory", f"{name}.app:create_app"]
        assert worker_container["command"] == ["python", "-m", f"{name}.worker"]
        assert api_container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert api_container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert api_container["ports"][0]["containerPort"] == API_PORT
        for pod, container in ((api, api_container), (worker, worker_container)):
            assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["resources"]["requests"] and container["resources"]["limits"]
            refs = [source.get("configMapRef", source.get("secretRef"))["name"] for source in container["envFrom"]]
            assert refs == ["suite-config", f"{name}-secrets"]
        selector = find(objects, "Deployment", f"{name}-api")["spec"]["selector"]["matchLabels"]
        assert find(objects, "Service", f"{name}-api")["spec"]["selector"] == selector
        for component in ("api", "worker"):
            budget = find(objects, "PodDisruptionBudget", f"{name}-{component}")["spec"]
            deployment = find(objects, "Deployment", f"{name}-{component}")
            assert budget["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def test_k8s_routes_are_the_gateway_routes_with_prefixes_stripped() -> None:
    objects = base_objects()
    routes = [o for o in objects if o["kind"] == "HTTPRoute" and o["metadata"]["name"] not in ("evidence-files", "web")]
    assert sorted(r["metadata"]["name"] for r in routes) == sorted(route_prefixes())
    for route in routes:
        name = route["metadata"]["name"]
        # one rule per prefix, plus the rate-limited variants of it (tests/deploy/test_gateway_config.py)
        assert route["spec"]["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": f"/{name}"}}]
        for rule in route["spec"]["rules"]:
            assert all(m["path"]["value"].startswith(f"/{name}") for m in rule["matches"])
            rewrite = next(f for f in rule["filters"] if f["type"] == "URLRewrite")["urlRewrite"]["path"]
            assert rewrite == {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
            (backend,) = rule["backendRefs"]
            service = find(objects, "Service", backend["name"])
            assert backend["name"] == f"{name}-api" and backend["port"] == service["spec"]["ports"][0]["port"]
        assert all(ref["name"] == "suite" for ref in route["spec"]["parentRefs"])
    find(objects, "Gateway", "suite")


def test_the_web_app_runs_like_the_apis_and_answers_every_other_path() -> None:
    objects = base_objects()
    web = find(objects, "Deployment", "web-api")["spec"]["template"]["spec"]
    assert web["securityContext"]["runAsNonRoot"] and web["containers"][0]["securityContext"]["readOnlyRootFilesystem"]
    assert web["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (rule,) = find(objects, "HTTPRoute", "web")["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert [f["type"] for f in rule["filters"]] == ["ExtensionRef"]  # the request id; no prefix to strip
    assert rule["backendRefs"] == [{"name": "web-api", "port": 80}]
    compose_web = compose()["services"]["web-api"]
    assert "web.app:create_app" in compose_web["command"]
    assert compose()["services"]["gateway"]["environment"]["GATEWAY_WEB_URL"] == f"http://web-api:{API_PORT}"
    routes = (ROOT / "gateway" / "routes.yml").read_text()
    assert 'rule: "PathPrefix(`/`)"' in routes and "GATEWAY_WEB_URL" in routes


def test_only_evidence_autoscales_and_its_uploads_get_long_timeouts() -> None:
    objects = base_objects()
    (hpa,) = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "evidence-api"}
    assert "replicas" not in find(objects, "Deployment", "evidence-api")["spec"]  # the autoscaler owns it
    timeout = find(objects, "HTTPRoute", "evidence")["spec"]["rules"][0]["timeouts"]["request"]
    assert int(timeout.rstrip("s")) >= 3600
    production = yaml.safe_load((K8S / "overlays" / "production" / "kustomization.yaml").read_text())
    assert "evidence-api" not in {r["name"] for r in production["replicas"]}


def test_k8s_sets_only_variables_the_services_read(known_env: set[str]) -> None:
    names = set(config_literals(K8S / "base" / "kustomization.yaml"))
    for overlay in OVERLAYS:
        names |= set(config_literals(K8S / "overlays" / overlay / "kustomization.yaml"))
    for deployment in (o for o in base_objects() if o["kind"] == "Deployment"):
        names |= {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    assert {"KAFKA_BOOTSTRAP", "AUTH_JWKS_URL", "ENVIRONMENT", "KAFKA_REPLICATION"} <= names
    unknown = {n for n in names if not is_known(n, known_env)}
    assert not unknown, f"variables nothing reads: {unknown}"


def test_k8s_production_replicates_kafka_three_times_and_commits_no_secret() -> None:
    base = config_literals(K8S / "base" / "kustomization.yaml")
    assert base["ENVIRONMENT"] == "production"
    assert config_literals(K8S / "overlays" / "production" / "kustomization.yaml")["KAFKA_REPLICATION"] == "3"
    assert config_literals(K8S / "overlays" / "dev" / "kustomization.yaml")["KAFKA_REPLICATION"] == "1"
    secrets = secret_names()
    for path in K8S.rglob("*.yaml"):
        for doc in load_all(path):
            assert doc.get("kind") != "Secret", path
            assert "secretGenerator" not in doc, path
            for generator in doc.get("configMapGenerator", []):
                leaked = set(literals(generator.get("literals", []))) & secrets
                assert not leaked, f"{path}: secrets in a ConfigMap: {leaked}"


# ---------------------------------------------------------------------------------------------- image


def dockerfile_sync_flags() -> list[list[str]]:
    """The flags of every `uv sync` the Dockerfile runs."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [shlex.split(m)[2:] for m in re.findall(r"uv sync[^\n&]*", text)]


def test_image_is_built_from_the_lock_without_dev_tools_or_stand_in_servers() -> None:
    runs = dockerfile_sync_flags()
    assert runs, "the Dockerfile no longer runs uv sync"
    for flags in runs:
        assert {"--frozen", "--no-dev", "--all-packages"} <= set(flags)
        assert not {f for f in flags if f.startswith(("--extra", "--all-extras", "--group", "--all-groups"))}
    # What that install holds, from the lock file alone (no network): `uv export` with the same selection.
    exported = subprocess.run(
        [str(ROOT / ".tools" / "bin" / "uv"), "export", "--frozen", "--no-dev", "--all-packages", "--no-hashes",
         "--no-header", "--no-emit-workspace"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    packages = {re.split(r"[=<>;\s\[]", line.strip())[0].lower() for line in exported.splitlines()
                if line.strip() and not line.lstrip().startswith("#")}
    kit = tomllib.loads((ROOT / "libs" / "kit" / "pyproject.toml").read_text())
    stand_ins = {re.split(r"[=<>\[]", r)[0].lower() for r in kit["project"]["optional-dependencies"]["local"]}
    stand_ins -= {"httpx"}  # a runtime dependency of kit too
    assert not packages & stand_ins, f"stand-in servers in the image: {packages & stand_ins}"
    assert not packages & {"pytest", "ruff", "mypy", "pytest-asyncio"}
    assert {"fastapi", "uvicorn", "aiokafka", "pymongo", "minio", "argon2-cffi"} <= packages
    dockerfile = (ROOT / "Dockerfile").read_text()
    for name in SERVICES:  # the dependency layer needs every member's pyproject.toml
        assert f"COPY services/{name}/pyproject.toml services/{name}/" in dockerfile
    # The build context is an allow-list: nothing else (.env, .data/, .venv/) reaches the builder.
    ignore = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*"
    assert {line for line in ignore if line.startswith("!")} == {"!pyproject.toml", "!uv.lock", "!libs/", "!services/"}
    user = re.findall(r"^USER (\S+)", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)
    assert user and user[-1].split(":")[0] not in {"root", "0"}
