"""deploy/kubernetes: every manifest parses and passes Kubernetes' own JSON schemas strictly
(kubernetes-validate, for the oldest and newest versions it knows); the probes, ports, labels, mounts,
Secret keys and config paths agree with each other, with the Containerfile and with the gateway's
routes; the ConfigMap's gateway.yaml is accepted by the real binary and, with the Secret's files
mounted where the Deployment mounts them, delivers an email and stops with exit 0 on SIGTERM; no
secret value is committed."""

import os
import re
import shutil
import subprocess

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

from deploy_support import (
    DEPLOY,
    REPO,
    as_user,
    deliver_one_email,
    harness,
    load_yaml_documents,
    require_gateway,
    unprivileged_copy,
    write_credentials,
)

K8S = DEPLOY / "kubernetes"
EXPECTED = {
    "configmap.yaml": ("v1", "ConfigMap"),
    "deployment.yaml": ("apps/v1", "Deployment"),
    "service.yaml": ("v1", "Service"),
    "poddisruptionbudget.yaml": ("policy/v1", "PodDisruptionBudget"),
    "secret.example.yaml": ("v1", "Secret"),
}
VERSIONS = sorted({all_versions()[0], all_versions()[-1]})


def manifest(name):
    (document,) = load_yaml_documents(K8S / name)
    return document


def deployment():
    return manifest("deployment.yaml")


def container():
    (only,) = deployment()["spec"]["template"]["spec"]["containers"]
    return only


def gateway_config():
    return yaml.safe_load(manifest("configmap.yaml")["data"]["gateway.yaml"])


def secret_mount():
    (volume,) = [v for v in deployment()["spec"]["template"]["spec"]["volumes"] if "secret" in v]
    (mount,) = [m for m in container()["volumeMounts"] if m["name"] == volume["name"]]
    return volume["secret"], mount["mountPath"]


def test_every_file_is_listed_and_of_its_kind():
    files = {p.name for p in K8S.glob("*.yaml")}
    assert files == set(EXPECTED) | {"kustomization.yaml"}
    for name, (api_version, kind) in EXPECTED.items():
        document = manifest(name)
        assert (document["apiVersion"], document["kind"]) == (api_version, kind), name
        assert document["metadata"]["name"] == "recovery-gateway"
    kustomization = manifest("kustomization.yaml")
    # The Secret template is not applied: `kubectl apply -k` would overwrite the real Secret with it.
    assert set(kustomization["resources"]) == set(EXPECTED) - {"secret.example.yaml"}
    # Its image rewrite applies to the Deployment's image name.
    assert [image["name"] for image in kustomization["images"]] == [container()["image"]]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_manifest_passes_the_kubernetes_schema_strictly(name, version):
    kubernetes_validate.validate(manifest(name), version, strict=True)


def test_schema_check_is_not_a_rubber_stamp():
    broken = deployment()
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {"httpGet": {"path": "/", "port": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)
    wrong_type = deployment()
    wrong_type["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, VERSIONS[-1], strict=True)


def test_probes_point_at_the_health_routes_on_the_container_port():
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    assert ports == {"http": gateway_config()["server"]["port"]}

    def route(probe):
        get = container()[probe]["httpGet"]
        port = ports[get["port"]] if isinstance(get["port"], str) else get["port"]
        assert port == gateway_config()["server"]["port"], probe
        return get["path"]

    assert route("livenessProbe") == "/health/alive"
    assert route("readinessProbe") == "/health/ready"
    assert route("startupProbe") == "/health/ready"


def test_probe_routes_answer_on_the_real_gateway(tmp_path, processes):
    """The routes the probes use answer 200 on the binary (a wrong path would be a 404 here)."""
    smtp = harness.SMTPServer(str(tmp_path))
    processes.append(smtp)
    stand_in = harness.StandIn(str(tmp_path))
    processes.append(stand_in)
    config = tmp_path / "gateway.yaml"
    config.write_text(
        harness.config_yaml(
            str(tmp_path),
            http_port=harness.free_port(),
            kratos_url=stand_in.url,
            smtp_url=f"smtp://127.0.0.1:{smtp.port}/?disable_starttls=true",
        )
    )
    gateway = harness.Gateway(str(tmp_path), config.read_text())
    gateway.start()
    try:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            answer = harness.http("GET", gateway.url + container()[probe]["httpGet"]["path"])
            assert answer.status == 200, (probe, answer)
    finally:
        assert gateway.stop() == 0


def test_replicas_disruption_budget_and_service_fit_together():
    spec = deployment()["spec"]
    labels = spec["template"]["metadata"]["labels"]
    assert spec["replicas"] >= 2
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pdb = manifest("poddisruptionbudget.yaml")["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["maxUnavailable"] < spec["replicas"]
    service = manifest("service.yaml")["spec"]
    assert service["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in service["ports"]] == ["http"]


def test_pod_is_locked_down_and_matches_the_image_user():
    pod = deployment()["spec"]["template"]["spec"]
    uid = re.search(r"^USER (\d+):(\d+)$", (DEPLOY / "Containerfile").read_text(), re.MULTILINE)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (
        int(uid.group(1)),
        int(uid.group(2)),
    )
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    context = container()["securityContext"]
    assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    resources = container()["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys() and "memory" in resources["limits"]


def seconds(duration):
    match = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[match.group(2)]


def test_grace_period_covers_the_pre_stop_pause_and_a_send_in_flight():
    defaults = yaml.safe_load((REPO / "config" / "gateway.yaml").read_text())
    config = gateway_config()
    smtp_timeout = seconds(config.get("smtp", {}).get("timeout", defaults["smtp"]["timeout"]))
    kratos_timeout = seconds(config.get("kratos", {}).get("timeout", defaults["kratos"]["timeout"]))
    pre_stop = container()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    grace = deployment()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    # One attempt: a Kratos call, then connecting and sending (each bounded by smtp.timeout).
    assert grace >= int(pre_stop[1]) + kratos_timeout + 2 * smtp_timeout


def test_config_secret_and_mounts_agree():
    config = gateway_config()
    args = container()["args"]
    (config_mount,) = [m for m in container()["volumeMounts"] if m["name"] == "config"]
    assert args == ["--config", config_mount["mountPath"] + "/gateway.yaml"]
    assert config["server"]["host"] == "0.0.0.0"
    assert config["store"]["url"].startswith("postgres://")
    workdir = re.findall(r"^WORKDIR (\S+)$", (DEPLOY / "Containerfile").read_text(), re.MULTILINE)[-1]
    assert config["templates"]["dir"] == workdir + "/templates"

    secret = manifest("secret.example.yaml")["stringData"]
    volume, mount_path = secret_mount()
    items = {item["path"]: item["key"] for item in volume["items"]}
    files = [
        config["smtp"]["password_file"],
        config["kratos"]["token_file"],
        config["audit"]["key_file"],
        config["audit"]["signing_key_file"],
        config["courier"]["payload_key_file"],
        config["console"]["oidc_client_secret_file"],
    ]
    for path in files:
        directory, _, name = path.rpartition("/")
        assert directory == mount_path and items[name] in secret, path
    (store_env,) = [e for e in container()["env"] if e["name"] == "RECOVERY_GATEWAY_STORE_URL"]
    assert store_env["valueFrom"]["secretKeyRef"]["key"] in secret
    assert volume["defaultMode"] == 0o440  # readable by fsGroup, nobody else
    assert (
        deployment()["spec"]["template"]["spec"]["securityContext"]["fsGroup"]
        == deployment()["spec"]["template"]["spec"]["securityContext"]["runAsGroup"]
    )


def test_no_secret_value_is_committed():
    secret = manifest("secret.example.yaml")
    assert "data" not in secret
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, key
    for path in K8S.glob("*.yaml"):
        text = path.read_text()
        assert not re.search(r"://[^/\s:@]+:(?!(CHANGE-ME|PASSWORD)@)[^@\s/]+@", text), path  # only placeholders
        # Nothing key-like: a long run of base64 or token characters mixing digits and both cases.
        for word in re.findall(r"[A-Za-z0-9+/_-]{32,}={0,2}", text):
            assert not (re.search(r"\d", word) and re.search(r"[a-z]", word) and re.search(r"[A-Z]", word)), word


def config_with_mounts(tmp_path):
    """The ConfigMap's gateway.yaml with the Secret's mount path moved into tmp_path and the templates
    copied there (like the binary: the checkout may sit where the pod's user cannot reach, e.g. in a
    0700 `mktemp -d` directory); returns (config file, mounted secret dir)."""
    text = manifest("configmap.yaml")["data"]["gateway.yaml"]
    _, mount_path = secret_mount()
    assert mount_path in text and "/app/templates" in text
    mounted = tmp_path / "secrets"
    templates = shutil.copytree(REPO / "templates", tmp_path / "templates")
    config = tmp_path / "gateway.yaml"
    config.write_text(text.replace(mount_path, str(mounted)).replace("/app/templates", str(templates)))
    return config, mounted


def test_configmap_config_delivers_with_the_secret_files(open_tmp, processes, postgres):
    """As the pod runs it: the Deployment's user, the Secret's files root-owned with mode 0440 and the
    fsGroup as group, a read-only working directory, and the store on a real PostgreSQL named by
    RECOVERY_GATEWAY_STORE_URL as the pod sets it; everything else is the ConfigMap's."""
    pod = deployment()["spec"]["template"]["spec"]["securityContext"]
    uid, gid = pod["runAsUser"], pod["fsGroup"]
    config, mounted = config_with_mounts(open_tmp)
    write_credentials(mounted, "smtp-pass-k8s-5d2e", "ory_pat_k8s_8b1c")
    mounted.chmod(0o755)
    for secret_file in mounted.iterdir():
        os.chown(secret_file, 0, gid)
        secret_file.chmod(secret_mount()[0]["defaultMode"])
    config.chmod(0o644)
    root = open_tmp / "root"  # the working directory: read-only for the pod's user
    root.mkdir(mode=0o755)
    code, log = deliver_one_email(
        open_tmp,
        config,
        mounted,
        processes,
        env={"RECOVERY_GATEWAY_STORE_URL": postgres.create_database()},
        prefix=as_user(uid, gid),
        cwd=root,
        binary=unprivileged_copy(open_tmp),
    )
    assert code == 0, log[-3000:]
    assert "smtp-pass-k8s-5d2e" not in log and "ory_pat_k8s_8b1c" not in log
    assert not list(root.iterdir())
    # The delivery and its two audit events are in PostgreSQL.
    assert postgres.query(postgres.last_database, "SELECT status FROM deliveries") == "sent"
    assert postgres.query(postgres.last_database, "SELECT count(*) FROM audit_events") == "2"


def test_configmap_postgres_url_passes_configuration_loading(tmp_path):
    """`migrate` loads the whole configuration first (a bad key stops it with "configuration: KEY"),
    then opens the store: with the Secret template's PostgreSQL URL pointed at a closed port, it must
    get past the configuration and fail at the store, without printing the password."""
    config, mounted = config_with_mounts(tmp_path)
    write_credentials(mounted, "x", "y")
    url = manifest("secret.example.yaml")["stringData"]["store-url"]
    url = re.sub(r"@[^/]+/", f"@127.0.0.1:{harness.free_port()}/", url)
    result = subprocess.run(
        [str(require_gateway()), "migrate", "--config", str(config)],
        env={"PATH": "/usr/bin:/bin", "RECOVERY_GATEWAY_STORE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "configuration:" not in result.stderr, result.stderr
    assert "cannot migrate" in result.stderr, result.stderr
    assert "CHANGE-ME" not in result.stderr + result.stdout


def test_secret_template_placeholder_key_is_refused(tmp_path):
    """A pod started with the unedited Secret template exits at once, naming the audit key."""
    config, mounted = config_with_mounts(tmp_path)
    placeholders = manifest("secret.example.yaml")["stringData"]
    write_credentials(
        mounted, placeholders["smtp-password"], placeholders["kratos-token"], placeholders["audit.key"].encode()
    )
    result = subprocess.run(
        [str(require_gateway()), "serve", "--config", str(config), "--port", str(harness.free_port())],
        env={"PATH": "/usr/bin:/bin", "RECOVERY_GATEWAY_STORE_URL": "sqlite://" + str(tmp_path / "g.sqlite")},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result
    assert "audit.key_file" in result.stderr and "at least 32" in result.stderr, result.stderr
