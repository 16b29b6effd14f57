"""The gateway protects the same way on all three footings: local and compose (gateway/routes.yml), k8s.

tests/e2e/test_gateway.py proves the behaviour on a running Traefik; these checks keep deploy/k8s and
docker-compose.yml saying the same as gateway/routes.yml.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from kit.local.servers import REQUEST_ID_PLUGIN, SERVICES

ROOT = Path(__file__).resolve().parents[2]
ROUTES = (ROOT / "gateway" / "routes.yml").read_text()
K8S = ROOT / "deploy" / "k8s" / "base"


def k8s(kind: str) -> dict[str, dict[str, Any]]:
    """The k8s base objects of one kind, by name."""
    docs = [d for f in ("routes.yaml", "gateway-middlewares.yaml") for d in yaml.safe_load_all((K8S / f).read_text())]
    return {d["metadata"]["name"]: d for d in docs if d and d["kind"] == kind}


def middlewares(rule: dict[str, Any]) -> list[str]:
    """The Traefik Middlewares a route rule attaches."""
    return [f["extensionRef"]["name"] for f in rule.get("filters", []) if f["type"] == "ExtensionRef"]


def template_default(name: str) -> int:
    """A rate setting's default in gateway/routes.yml."""
    found = re.search(rf'env "{name}" \| default "(\d+)"', ROUTES)
    assert found, name
    return int(found.group(1))


def signed_object_path() -> str:
    """The one object path shape the presigned route lets through, as gateway/routes.yml writes it."""
    found = re.search(r"PathRegexp\(`(\^/evidence-files/[^`]+)`\)", ROUTES)
    assert found
    return found.group(1)


def negated_query_params() -> set[str]:
    """The S3 sub-resources gateway/routes.yml refuses on the presigned route."""
    return set(re.findall(r"!QueryRegexp\(`([A-Za-z-]+)`", ROUTES))


def test_every_service_route_gets_a_request_id_and_a_per_token_ceiling_everywhere() -> None:
    assert ROUTES.count("middlewares: [request-id, strip-{{ $svc }}]") == 1
    assert "middlewares: [request-id, per-token, strip-{{ $svc }}]" in ROUTES
    assert "HeaderRegexp(`Authorization`, `^Bearer .+`)" in ROUTES
    routes = k8s("HTTPRoute")
    for name in SERVICES:
        rules = routes[name]["spec"]["rules"]
        assert all("request-id" in middlewares(rule) for rule in rules), name
        token_rules = [r for r in rules if "per-token" in middlewares(r)]
        assert token_rules and token_rules[0]["matches"][0]["headers"][0]["name"] == "Authorization"
    per_token = k8s("Middleware")["per-token"]["spec"]["rateLimit"]
    assert per_token["average"] == template_default("GATEWAY_TOKEN_PER_SECOND") and per_token["period"] == "1s"
    assert per_token["sourceCriterion"] == {"requestHeaderName": "Authorization"}


def test_sign_in_endpoints_are_limited_per_address_alike() -> None:
    found = re.search(r"PathRegexp\(`\^/identity/v1/\(auth/\(([a-z|-]+)\)\|oauth/token\)\$`\)", ROUTES)
    assert found
    local = {f"/identity/v1/auth/{p}" for p in found.group(1).split("|")} | {"/identity/v1/oauth/token"}
    rule = next(r for r in k8s("HTTPRoute")["identity"]["spec"]["rules"] if "sign-in-per-address" in middlewares(r))
    assert {m["path"]["value"] for m in rule["matches"]} == local
    assert all(m["method"] == "POST" and m["path"]["type"] == "Exact" for m in rule["matches"])
    limit = k8s("Middleware")["sign-in-per-address"]["spec"]["rateLimit"]
    assert limit["average"] == template_default("GATEWAY_SIGN_IN_PER_MINUTE") and limit["period"] == "1m"
    assert limit["burst"] == template_default("GATEWAY_SIGN_IN_BURST")


def test_s3_is_reachable_only_for_presigned_reads_of_one_school_object_alike() -> None:
    assert {"acl", "tagging", "uploadId", "list-type", "attributes"} <= negated_query_params()
    assert "!HeaderRegexp(`Authorization`, `.*`)" in ROUTES
    assert "QueryRegexp(`X-Amz-SignedHeaders`, `^host$`)" in ROUTES
    assert 'rule: "PathPrefix(`/evidence-files`)"' in ROUTES and "middlewares: [refuse]" in ROUTES
    allowed, refused = k8s("HTTPRoute")["evidence-files"]["spec"]["rules"]
    assert "refuse" in middlewares(refused) and "refuse" not in middlewares(allowed)
    for match in allowed["matches"] + refused["matches"]:
        assert match["method"] in ("GET", "HEAD")
        assert match["path"] == {"type": "RegularExpression", "value": signed_object_path()}
        names = {q["name"] for q in match["queryParams"]}
        assert {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                "X-Amz-Signature"} <= names
    refused_params = {q["name"] for m in refused["matches"] for q in m["queryParams"]} - {
        q["name"] for q in allowed["matches"][0]["queryParams"]}
    assert refused_params == negated_query_params()
    assert any(m.get("headers", [{}])[0].get("name") == "Authorization" for m in refused["matches"])
    assert "sandbox" in k8s("Middleware")["download-headers"]["spec"]["headers"]["customResponseHeaders"][
        "Content-Security-Policy"]


def test_presigned_urls_point_at_the_gateway_on_every_footing() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    evidence = compose["services"]["evidence-api"]["environment"]
    assert evidence["S3_PUBLIC_URL"] == evidence["PUBLIC_URL"]
    for overlay in ("dev", "production"):
        literals = yaml.safe_load((ROOT / "deploy" / "k8s" / "overlays" / overlay / "kustomization.yaml")
                                  .read_text())["configMapGenerator"][0]["literals"]
        values = dict(entry.split("=", 1) for entry in literals)
        assert values["S3_PUBLIC_URL"] == values["PUBLIC_URL"], overlay


def test_compose_and_local_runs_load_the_request_id_plugin() -> None:
    plugin = ROOT / "gateway" / "plugins-local" / "src" / REQUEST_ID_PLUGIN
    assert (plugin / ".traefik.yml").is_file() and (plugin / "requestid.go").is_file()
    gateway = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["gateway"]
    assert f"--experimental.localPlugins.requestid.moduleName={REQUEST_ID_PLUGIN}" in gateway["command"]
    assert "./gateway/plugins-local:/plugins-local:ro" in gateway["volumes"] and gateway["working_dir"] == "/"
    assert k8s("Middleware")["request-id"]["spec"]["plugin"] == {"requestid": {"headerName": "X-Request-ID"}}
