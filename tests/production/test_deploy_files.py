"""The deployment files describe the same profile as `make run-prod`: checked without running them
(these machines cannot run containers or a Kubernetes cluster)."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.deploy.nginx import main as render_deploy_configs

DEPLOY = PROJECT_ROOT / "deploy"


def test_the_proxy_configurations_in_deploy_are_the_rendered_ones():
    assert render_deploy_configs(["--check"]) == 0, "run: python -m bot.deploy.nginx"


def test_docker_compose_runs_every_server_the_proxy_names_with_the_production_endpoints():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    for name in ("rasa-1", "rasa-2", "actions-1", "actions-2", "web"):
        assert name in services and f"server {name}:" in conf
    for name in ("rasa-1", "rasa-2"):
        assert "deploy/endpoints.prod.yml" in services[name]["command"]
    for name in ("rasa-1", "actions-1", "web", "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and env["REDIS_URL"].startswith("redis://")
    assert services["proxy"]["volumes"] == ["./nginx/nginx.conf:/etc/nginx/ipt/nginx.conf:ro"]


def test_the_kubernetes_manifests_name_what_exists():
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    documents = [d for f in kustomization["resources"]
                 for d in yaml.safe_load_all((DEPLOY / "k8s" / f).read_text()) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert {("StatefulSet", "rasa"), ("Service", "rasa"), ("Deployment", "actions"), ("Deployment", "web"),
            ("Deployment", "proxy"), ("Job", "migrate"), ("ConfigMap", "ipt-config")} <= kinds
    rasa = next(d for d in documents if d["kind"] == "StatefulSet" and d["metadata"]["name"] == "rasa")
    conf = (DEPLOY / "k8s" / "nginx.conf").read_text()
    assert conf.count("server rasa-") == rasa["spec"]["replicas"], "proxy and StatefulSet disagree on the servers"
    assert "deploy/endpoints.prod.yml" in rasa["spec"]["template"]["spec"]["containers"][0]["args"][0]


def test_kustomize_builds_the_kubernetes_manifests():
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed")
    result = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "name: ipt-proxy-" in result.stdout  # the generated ConfigMap, referenced by the proxy
