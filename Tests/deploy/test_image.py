"""The image users get, built and run with podman: deploy/Containerfile's runtime stage unchanged (the
binary from the release build CI made, through its `prebuilt` stage), run as the Kubernetes Deployment runs
it — its user, a read-only root file system, the ConfigMap's gateway.yaml and the Secret's files mounted
read-only where the Deployment mounts them — on the host's network, with the Kratos stand-in and aiosmtpd on
loopback. On SQLite with /app/data a volume: healthy, an email sent, a send in flight finished by `podman
stop` (exit 0), `audit verify` inside the container. On the test PostgreSQL: two containers, one database.
The image's size, its start-up time to ready and its idle RSS are printed at the end of the run."""

import hashlib
import json
import os
import pathlib
import re
import time

import pytest
import yaml

import podman_support
from deploy_support import API_KEY, DEPLOY, REPO, SMTP_USER, harness, load_yaml_documents, write_credentials
from podman_support import IMAGE, Container, podman

K8S = DEPLOY / "kubernetes"


def manifest(name):
    (document,) = load_yaml_documents(K8S / name)
    return document


def pod():
    return manifest("deployment.yaml")["spec"]["template"]["spec"]


def mount_path(volume_name):
    (container,) = pod()["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume_name]
    assert mount["readOnly"] is True, mount
    return mount["mountPath"]


@pytest.fixture(scope="session")
def image(tmp_path_factory, image_figures):
    """IMAGE, built once per run; the figures of its making go in image_figures."""
    base, base_seconds = podman_support.base_image()
    took = podman_support.build_image(tmp_path_factory.mktemp("image"))
    size = podman_support.image_size(IMAGE)
    image_figures["image size"] = f"{size / 1e6:.1f} MB (base {podman_support.image_size(base) / 1e6:.1f} MB)"
    image_figures["image build"] = f"{took:.0f} s" + (f", base made in {base_seconds:.0f} s" if base_seconds else "")
    return IMAGE


@pytest.fixture
def containers():
    """Containers a test runs; removed at teardown."""
    started = []
    yield started
    for container in started:
        container.remove()


class Peers:
    """The stand-in (requiring the Kratos token) and aiosmtpd (STARTTLS, AUTH) on loopback, and the pod's
    files: the ConfigMap's gateway.yaml and the Secret's files, root-owned, mode 0440, group the pod's
    fsGroup, as Kubernetes mounts them."""

    def __init__(self, workdir, processes, *smtp_options):
        self.workdir = pathlib.Path(workdir)
        security = pod()["securityContext"]
        self.secrets = write_credentials(self.workdir / "secrets", "smtp-pass-image-7c1e", "ory_pat_image_2f9a")
        self.secrets.chmod(0o755)
        for secret in self.secrets.iterdir():
            os.chown(secret, 0, security["fsGroup"])
            secret.chmod(0o440)
        self.config = self.workdir / "config"
        self.config.mkdir(mode=0o755)
        (self.config / "gateway.yaml").write_text(manifest("configmap.yaml")["data"]["gateway.yaml"])
        (self.config / "gateway.yaml").chmod(0o644)
        token_file = self.workdir / "stand-in-token"
        self.token = (self.secrets / "kratos-token").read_text().strip()
        token_file.write_text(self.token)
        self.stand_in = harness.StandIn(str(self.workdir), token_file=token_file)
        processes.append(self.stand_in)
        password = (self.secrets / "smtp-password").read_text().strip()
        self.smtp = harness.SMTPServer(
            str(self.workdir), "--tls", "starttls", "--auth", f"{SMTP_USER}:{password}", *smtp_options
        )
        processes.append(self.smtp)
        self.ca = pathlib.Path(self.smtp.cert).parent
        self.ca.chmod(0o755)
        pathlib.Path(self.smtp.cert).chmod(0o644)

    def environment(self, store_url):
        """What differs from the pod's: the peers' addresses, the test CA, an API key and the store."""
        digest = hashlib.sha256(API_KEY.encode()).hexdigest()
        return {
            "RECOVERY_GATEWAY_KRATOS_ADMIN_URL": self.stand_in.url,
            "RECOVERY_GATEWAY_SMTP_URL": f"smtp://postmaster%40example.com@127.0.0.1:{self.smtp.port}/",
            "RECOVERY_GATEWAY_SMTP_CA_FILE": "/run/test-ca/cert.pem",
            "RECOVERY_GATEWAY_API_KEYS": f'[{{name: image-test, sha256: "{digest}", scopes: [recovery:send, recovery:read]}}]',
            "RECOVERY_GATEWAY_STORE_URL": store_url,
        }

    def volumes(self, *more):
        return [
            f"{self.config}:{mount_path('config')}:ro",
            f"{self.secrets}:{mount_path('secrets')}:ro",
            f"{self.ca}:/run/test-ca:ro",
            *more,
        ]


def config_argument():
    (container,) = pod()["containers"]
    return container["args"]


def send(container, key, identity=harness.ALICE, wait=None):
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": key}
    if wait:
        headers["Prefer"] = f"wait={wait}"
    return harness.http(
        "POST",
        container.url + "/v1/recovery-emails",
        {"identity_id": identity, "method": "link", "reason": "image test"},
        headers,
    )


def delivery(container, delivery_id):
    answer = harness.http(
        "GET", f"{container.url}/v1/recovery-emails/{delivery_id}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert answer.status == 200, answer
    return answer.json()


def audit_verify(container):
    """`audit verify` inside the running container (its environment, its mounts): the events it checked."""
    done = container.exec("recovery-gateway", "audit", "verify", *config_argument(), check=False)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return int(re.match(r"ok: (\d+) events, head ", done.stdout).group(1))


def test_the_image_is_the_deployment_s_image(image):
    """The Deployment's user, port, config path and templates dir are the image's."""
    config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    security = pod()["securityContext"]
    assert config["User"] == f"{security['runAsUser']}:{security['runAsGroup']}"
    (container,) = pod()["containers"]
    assert config["Entrypoint"] == ["recovery-gateway", "serve"] and container.get("command") is None
    assert set(config["ExposedPorts"]) == {f"{p['containerPort']}/tcp" for p in container["ports"]}
    assert container["args"] == ["--config", mount_path("config") + "/gateway.yaml"]
    templates = yaml.safe_load(manifest("configmap.yaml")["data"]["gateway.yaml"])["templates"]["dir"]
    assert templates == config["WorkingDir"] + "/templates"
    listed = podman("run", "--rm", "--network=none", "--entrypoint", "ls", image, templates).stdout.split()
    assert sorted(listed) == sorted(p.name for p in (REPO / "templates").iterdir())
    assert "/app/data" in config["Volumes"]


def test_the_image_sends_on_sqlite_stops_gracefully_and_verifies_its_audit_log(
    image, open_tmp, processes, containers, image_figures
):
    # aiosmtpd holds the first message 4 s before answering: a send in flight when `podman stop` comes.
    peers = Peers(open_tmp, processes, "--hold-first", "4")
    volume = f"rg-image-test-{os.getpid()}"
    podman("volume", "rm", "--force", volume)
    try:
        environment = peers.environment("sqlite:///app/data/gateway.sqlite")
        volumes = peers.volumes(f"{volume}:/app/data")
        gateway = Container("rg-image-sqlite", harness.free_port(), environment, volumes, config_argument())
        containers.append(gateway)
        image_figures["start-up to ready (SQLite, new volume)"] = f"{gateway.wait_ready():.2f} s"
        harness.wait_for(lambda: gateway.health() == "healthy", 30, interval=0.5, what="healthy")
        uid, gid = (pod()["securityContext"][k] for k in ("runAsUser", "runAsGroup"))
        assert gateway.exec("id", "-u").stdout.split() == [str(uid)]
        assert gateway.exec("id", "-g").stdout.split() == [str(gid)]
        # Read-only everywhere but the data volume (and podman's /tmp tmpfs, as the pod's emptyDir).
        refused = gateway.exec("touch", "/app/templates/x", check=False)
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr, refused
        assert gateway.exec("touch", f"{mount_path('secrets')}/x", check=False).returncode != 0
        time.sleep(2)
        image_figures["idle RSS after start"] = f"{gateway.rss_kb() / 1024:.1f} MiB"

        # A send in flight at `podman stop`: the delivery is leased (sending) and aiosmtpd holds it.
        accepted = send(gateway, "image-in-flight")
        assert accepted.status == 202, accepted
        in_flight = accepted.json()["id"]
        harness.wait_for(lambda: delivery(gateway, in_flight)["status"] == "sending", 20, what="sending")
        assert peers.smtp.count() == 0
        assert gateway.stop() == 0, gateway.logs()[-3000:]
        assert peers.smtp.count() == 1, "the send in flight was not finished before the gateway exited"
        (envelope,) = [p for p in pathlib.Path(peers.smtp.maildir).glob("*.json")]
        assert '"authenticated": true' in envelope.read_text().replace("True", "true")

        # The same volume again: the delivery stayed sent; one more email, waited for; the audit chain.
        again = Container("rg-image-sqlite", harness.free_port(), environment, volumes, config_argument())
        containers.append(again)
        image_figures["start-up to ready (SQLite, existing volume)"] = f"{again.wait_ready():.2f} s"
        assert delivery(again, in_flight)["status"] == "sent" and delivery(again, in_flight)["attempts"] == 1
        # Another identity: the first one is in its cooldown.
        bob = peers.stand_in.create_identity({"email": "bob@example.org"}, token=peers.token)["id"]
        answer = send(again, "image-1", bob, wait=20)
        assert answer.status == 200 and answer.json()["status"] == "sent", (answer, again.logs()[-3000:])
        assert peers.smtp.count() == 2 and len(peers.stand_in.issued()) == 2
        time.sleep(2)
        image_figures["idle RSS after two emails"] = f"{again.rss_kb() / 1024:.1f} MiB"
        # Requested and sent, for each email.
        assert audit_verify(again) == 4
        logs = again.logs()
        assert again.stop() == 0, logs[-3000:]
        for secret in ("smtp-pass-image-7c1e", "ory_pat_image_2f9a"):
            assert secret not in logs
        # Only the volume was written, as the image's user: the database (the keys come from the Secret).
        data = pathlib.Path(podman("volume", "inspect", "--format", "{{.Mountpoint}}", volume).stdout.strip())
        assert {p.stat().st_uid for p in data.iterdir()} == {uid}, list(data.iterdir())
    finally:
        for container in containers:
            container.remove()
        podman("volume", "rm", "--force", volume, check=False)


def test_two_containers_of_the_image_share_the_test_postgresql(image, open_tmp, processes, containers, postgres):
    peers = Peers(open_tmp, processes)
    environment = peers.environment(postgres.create_database())
    # As in the pod: no volume at all, the store is PostgreSQL's.
    first = Container("rg-image-pg-1", harness.free_port(), environment, peers.volumes(), config_argument())
    containers.append(first)
    second = Container("rg-image-pg-2", harness.free_port(), environment, peers.volumes(), config_argument())
    containers.append(second)
    for container in (first, second):
        container.wait_ready()
        harness.wait_for(lambda c=container: c.health() == "healthy", 30, interval=0.5, what="healthy")
    bob = peers.stand_in.create_identity({"email": "bob@example.org"}, token=peers.token)["id"]
    sent = [send(first, "image-pg-1", wait=20), send(second, "image-pg-2", bob, wait=20)]
    assert [a.status for a in sent] == [200, 200], (sent, first.logs()[-2000:], second.logs()[-2000:])
    # One idempotency key, two replicas: one delivery.
    replayed = send(second, "image-pg-1", wait=20)
    assert replayed.status == 200 and replayed.json()["id"] == sent[0].json()["id"], replayed
    assert peers.smtp.count() == 2
    assert delivery(first, sent[1].json()["id"])["status"] == "sent"
    assert audit_verify(second) == 4
    assert [first.stop(), second.stop()] == [0, 0]
