"""The Kubernetes manifests of deploy/kubernetes/ are valid against the Kubernetes API schema (the
schemas kubernetes-validate ships, strict: no unknown field), and agree with the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from webapp import create_app
from webapp.cli import cli
from webapp.settings import SETTINGS

kubernetes_validate = pytest.importorskip("kubernetes_validate")

MANIFESTS = sorted((Path(__file__).resolve().parents[2] / "deploy" / "kubernetes").glob("*.yaml"))
VERSIONS = ["1.28.0", "1.30.0", kubernetes_validate.latest_version()]


def _documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


DOCUMENTS = _documents()


def _containers() -> list[dict[str, Any]]:
    return [
        container
        for _, doc in DOCUMENTS
        if doc["kind"] in ("Deployment", "Job")
        for container in doc["spec"]["template"]["spec"]["containers"]
    ]


def test_there_are_manifests() -> None:
    kinds = sorted(doc["kind"] for _, doc in DOCUMENTS)
    assert kinds == ["Deployment", "Ingress", "Job", "Service"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "doc"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_each_manifest_is_valid_against_the_api_schema(name: str, doc: dict[str, Any], version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_an_invalid_manifest_is_refused() -> None:
    _, deployment = next((n, d) for n, d in DOCUMENTS if d["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_the_manifests_agree_with_the_service(tmp_path: Path) -> None:
    settings = {f"TCUP_{s.name}" for s in SETTINGS} | {"DATABASE_URL", "TCUP_BIND", "TCUP_WORKERS"}
    routes = {rule.rule for rule in create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite"}).url_map.iter_rules()}
    for container in _containers():
        assert container["args"][0] in cli.commands, f"tcup-server has no command {container['args'][0]}"
        for variable in container["env"]:
            assert variable["name"] in settings, f"{variable['name']} is not a setting of the service"
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if probe in container:
                assert container[probe]["httpGet"]["path"] in routes
    for _, doc in DOCUMENTS:
        if doc["kind"] in ("Deployment", "Job"):
            assert doc["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
