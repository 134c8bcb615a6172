"""Helpers for the deploy tests: paths, the real binaries (through Tests/e2e/harness.py) and a gateway
process started from a deploy file's configuration, in a temp dir, stopped with SIGTERM."""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
sys.path.insert(0, str(REPO / "Tests" / "e2e"))

import harness  # noqa: E402  (the e2e tests' real-process helpers: stand-in, SMTP server, HTTP)

GATEWAY_BIN = harness.GATEWAY_BIN
SANDBOX = pathlib.Path(__file__).resolve().parent / "sandbox_exec.py"


def require_gateway():
    if not GATEWAY_BIN.exists():
        raise RuntimeError(f"{GATEWAY_BIN} missing: run `swift build` or set RECOVERY_GATEWAY_BIN_DIR")
    return GATEWAY_BIN


def load_yaml_documents(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


class GatewayProcess:
    """`recovery-gateway serve` with a config file, extra environment and an optional command prefix."""

    def __init__(self, workdir, config, env=None, prefix=(), port=None, cwd=None, binary=None):
        self.workdir = pathlib.Path(workdir)
        self.port = port or harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out_path = self.workdir / f"gateway-{self.port}.log"
        self.out = open(self.out_path, "wb")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("RECOVERY_GATEWAY_")}
        environment.update(env or {})
        self.process = subprocess.Popen(
            # The port goes in as the environment variable when the test sets it, else as the flag.
            [*prefix, str(binary or require_gateway()), "serve", "--config", str(config)]
            + ([] if "RECOVERY_GATEWAY_SERVER_PORT" in environment else ["--port", str(self.port)]),
            cwd=str(cwd or workdir),
            env=environment,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )

    def log(self):
        return self.out_path.read_bytes().decode("utf-8", "replace")

    def wait_ready(self, timeout=60):
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited {self.process.returncode}: {self.log()[-3000:]}")
            try:
                return harness.http("GET", self.url + "/health/ready", timeout=2).status == 200
            except OSError:
                return False

        harness.wait_for(ready, timeout, interval=0.1, what="gateway ready")
        return self

    def exited(self, timeout=30):
        """Waits for the process to end by itself; its exit code."""
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.out.close()

    def stop(self):
        """SIGTERM (as systemd, docker and Kubernetes send it); the exit code."""
        code = harness.stop_process(self.process, timeout=20)
        if not self.out.closed:
            self.out.close()
        return code


SMTP_USER = "postmaster@example.com"
API_KEY = "rg_deploy_test_4b1d9c7e2a5f8e3d6c0a"


def write_credentials(directory, smtp_password, kratos_token, audit_key_bytes=None):
    """The secret files, as LoadCredential= or a Secret volume presents them (the signing and courier payload
    keys: the Secret only)."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "smtp-password").write_text(smtp_password + "\n")
    (directory / "kratos-token").write_text(kratos_token + "\n")
    (directory / "audit.key").write_bytes(audit_key_bytes if audit_key_bytes is not None else os.urandom(32))
    (directory / "audit-signing.key").write_bytes(os.urandom(32))
    (directory / "courier-payload.key").write_bytes(os.urandom(32))
    (directory / "courier-payload.key").chmod(0o600)  # the gateway refuses a key file others may read
    (directory / "oidc-client-secret").write_text("console-client-secret\n")  # the console's OpenID client
    return directory


def deliver_one_email(
    workdir, config, credentials, processes, env=None, prefix=(), cwd=None, binary=None, peer_host="127.0.0.1"
):
    """Starts the stand-in (requiring the Kratos token), aiosmtpd (STARTTLS, AUTH with the SMTP password)
    and the gateway on `config`, with only the peers' addresses, the test CA and an API key overridden:
    the secrets reach the peers only through the config's *_file settings. Sends one recovery email,
    checks it arrived authenticated, stops the gateway with SIGTERM; returns (exit code, log).
    `peer_host` names the peers' loopback host (`localhost` makes the gateway resolve a name)."""
    import hashlib
    import json

    credentials = pathlib.Path(credentials)
    token = (credentials / "kratos-token").read_text().strip()
    password = (credentials / "smtp-password").read_text().strip()
    token_file = pathlib.Path(workdir) / "stand-in-token"
    token_file.write_text(token)
    stand_in = harness.StandIn(str(workdir), token_file=token_file)
    processes.append(stand_in)
    smtp = harness.SMTPServer(str(workdir), "--tls", "starttls", "--auth", f"{SMTP_USER}:{password}")
    processes.append(smtp)
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    overrides = {
        "RECOVERY_GATEWAY_KRATOS_ADMIN_URL": f"http://{peer_host}:{stand_in.port}",
        "RECOVERY_GATEWAY_SMTP_URL": f"smtp://postmaster%40example.com@{peer_host}:{smtp.port}/",
        "RECOVERY_GATEWAY_SMTP_CA_FILE": smtp.cert,
        "RECOVERY_GATEWAY_API_KEYS": f'[{{name: deploy-test, sha256: "{digest}", scopes: [recovery:send, recovery:read]}}]',
        **(env or {}),
    }
    gateway = GatewayProcess(workdir, config, env=overrides, prefix=prefix, cwd=cwd, binary=binary)
    processes.append(gateway)
    gateway.wait_ready()
    answer = harness.http(
        "POST",
        gateway.url + "/v1/recovery-emails",
        {"identity_id": harness.ALICE, "method": "link", "reason": "deploy test"},
        {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "deploy-1", "Prefer": "wait=20"},
    )
    assert answer.status == 200 and answer.json()["status"] == "sent", (answer, gateway.log()[-3000:])
    assert smtp.count() == 1
    envelopes = [json.load(open(p)) for p in pathlib.Path(smtp.maildir).glob("*.json")]
    assert envelopes[0]["authenticated"], envelopes
    assert len(stand_in.issued()) == 1
    code = gateway.stop()
    return code, gateway.log()


def image_user():
    """(uid, gid) of the Containerfile's last USER line."""
    users = re.findall(r"^USER (\d+):(\d+)$", (DEPLOY / "Containerfile").read_text(), re.MULTILINE)
    return int(users[-1][0]), int(users[-1][1])


def as_user(uid, gid):
    """A command prefix that runs as uid:gid with no supplementary groups, as a container runtime
    does for `runAsUser`/`USER` (when the tests already run unprivileged, they run as they are)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]


def unprivileged_copy(directory):
    """The gateway binary copied into `directory` (which an unprivileged user can traverse), since the
    build folder may sit where that user cannot reach."""
    target = pathlib.Path(directory) / "bin" / "recovery-gateway"
    target.parent.mkdir(mode=0o755)
    shutil.copy2(require_gateway(), target)
    target.chmod(0o755)
    return target
