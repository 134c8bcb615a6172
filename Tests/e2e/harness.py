"""Real processes for the end-to-end tests: the kratos-stand-in binary, scripts/smtp_server.py (aiosmtpd)
and the recovery-gateway binary, each on a free loopback port in a per-test temp dir. Every process is
killed on teardown; nothing here fakes a part of the gateway."""

import collections
import email
import email.policy
import glob
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("RECOVERY_GATEWAY_BIN_DIR", REPO / ".build" / "debug"))
GATEWAY_BIN = BIN_DIR / "recovery-gateway"
STAND_IN_BIN = BIN_DIR / "kratos-stand-in"
SMTP_SERVER = REPO / "scripts" / "smtp_server.py"

# The stand-in's default identities (config/stand-in-identities.json).
ALICE = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"  # recovery address foobar@ory.sh
ALICE_EMAIL = "foobar@ory.sh"
TWO_ADDRESSES = "5b4c9a8e-3f1d-4c2a-9e7b-1d2f3a4b5c6d"
PHONE_ONLY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
NO_RECOVERY = "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70"

# API keys: the key itself goes to the caller, its SHA-256 to the gateway's config.
KEYS = {
    "backend": (
        "rg_backend_e2e_7f3c9a2b5d8e1f4a6c0b",
        ["recovery:send", "recovery:read", "audit:read", "identity:read"],
    ),
    "support": (
        "rg_support_e2e_1a2b3c4d5e6f7a8b9c0d",
        ["recovery:send", "recovery:send:any-recipient", "recovery:read"],
    ),
    "reader": ("rg_reader_e2e_9e8d7c6b5a4f3e2d1c0b", ["recovery:read"]),
    # Every scope (Tests/e2e/test_openapi.py: schemathesis exercises every operation with it).
    "admin": (
        "rg_admin_e2e_5c4b3a2f1e0d9c8b7a6f",
        [
            "recovery:send",
            "recovery:send:any-recipient",
            "recovery:read",
            "audit:read",
            "courier:kratos",
            "batch:admin",
            "identity:read",
        ],
    ),
    # Steers every key's batches, and may do nothing else (Tests/e2e/test_batch.py).
    "operator": ("rg_operator_e2e_8b7a6f5e4d3c2b1a0f9e", ["batch:admin"]),
    # The key Kratos's HTTP courier holds (Tests/e2e/test_kratos_courier.py).
    "kratos": ("rg_kratos_e2e_3e1f5a7c9b2d4f6e8a0c", ["courier:kratos"]),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def message_key(message_id):
    """A Message-ID as the gateway's API shows it: no surrounding spaces or angle brackets."""
    return message_id.strip().strip("<>")


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def stop_process(process, timeout=10):
    """SIGTERM, then SIGKILL if it does not end; returns the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class HTTPAnswer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"HTTPAnswer({self.status}, {self.body[:300]!r})"


def http(method, url, body=None, headers=None, timeout=30):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None and not request.has_header("Content-type"):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HTTPAnswer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return HTTPAnswer(error.code, error.headers, error.read())


class StandIn:
    """kratos-stand-in on a free port."""

    def __init__(self, workdir, token_file=None, port=0):
        if not STAND_IN_BIN.exists():
            raise RuntimeError(f"{STAND_IN_BIN} missing: run `swift build` or set RECOVERY_GATEWAY_BIN_DIR")
        args = [str(STAND_IN_BIN), "--host", "127.0.0.1", "--port", str(port)]
        if token_file:
            args += ["--token-file", str(token_file)]
        self.log = open(os.path.join(workdir, "stand-in.err"), "wb")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            stop_process(self.process)
            raise RuntimeError(f"stand-in did not start: {line!r}")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def fault(self, path, count, **kwargs):
        answer = http("POST", self.url + "/stand-in/faults", {"path": path, "count": count, **kwargs})
        assert answer.status == 204, answer

    def latency(self, milliseconds):
        """Every admin call of the stand-in waits this long before it is answered."""
        answer = http("POST", self.url + "/stand-in/latency", {"milliseconds": milliseconds})
        assert answer.status == 204, answer

    def issued(self):
        return http("GET", self.url + "/stand-in/issued").json()

    def create_identity(self, traits, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = http("POST", self.url + "/admin/identities", {"schema_id": "default", "traits": traits}, headers)
        assert answer.status == 201, answer
        return answer.json()

    def stop(self):
        stop_process(self.process)
        self.process.stdout.close()
        self.log.close()


class SMTPServer:
    """scripts/smtp_server.py (aiosmtpd) keeping every message in a maildir."""

    def __init__(self, workdir, *options, port=0, name="smtp"):
        self.maildir = os.path.join(workdir, name, "mail")
        self.ready = os.path.join(workdir, name + ".port")
        os.makedirs(os.path.dirname(self.maildir), exist_ok=True)
        if os.path.exists(self.ready):
            os.remove(self.ready)
        self.log = open(os.path.join(workdir, name + ".log"), "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(SMTP_SERVER),
                "--maildir",
                self.maildir,
                "--ready-file",
                self.ready,
                "--port",
                str(port),
                *options,
            ],
            stdout=self.log,
            stderr=self.log,
        )
        wait_for(lambda: os.path.exists(self.ready) or self.process.poll() is not None, 20, what="smtp server")
        if self.process.poll() is not None:
            raise RuntimeError(f"smtp server exited {self.process.returncode}")
        self.port = int(open(self.ready).read())
        self.cert = os.path.join(os.path.dirname(self.maildir), "cert.pem")

    def messages(self):
        """Every message received, parsed, in arrival order (only those whose envelope is written)."""
        found = []
        for envelope in sorted(glob.glob(os.path.join(self.maildir, "*.json"))):
            with open(envelope[: -len(".json")] + ".eml", "rb") as f:
                found.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return found

    def count(self):
        """Messages received so far (cheap: counts envelopes)."""
        return len(glob.glob(os.path.join(self.maildir, "*.json")))

    def message_ids(self):
        return [m["Message-ID"].strip() for m in self.messages()]

    def received(self):
        """How many times each Message-ID (as `message_key` gives it) arrived."""
        return collections.Counter(message_key(m) for m in self.message_ids())

    def stop(self):
        stop_process(self.process)
        self.log.close()


def config_yaml(workdir, *, http_port, kratos_url, smtp_url, templates_dir=None, overrides=None):
    """The gateway's YAML config for one test: short backoffs and leases, no cooldown, high rate limits."""
    sections = {
        "server": {"host": "127.0.0.1", "port": http_port, "max_body_bytes": 16384},
        "kratos": {"admin_url": kratos_url, "timeout": "2s"},
        "smtp": {"url": smtp_url, "timeout": "3s", "connections": 4},
        "store": {"url": "sqlite://" + os.path.join(workdir, "gateway.sqlite")},
        "audit": {"key_file": os.path.join(workdir, "audit.key")},
        "delivery": {
            "backoff_initial": "100ms",
            "backoff_max": "1s",
            "lease": "2s",
            "cooldown": "0s",
            "rate_per_key": 100000,
            "burst_per_key": 100000,
            "workers": 8,
            "max_attempts": 8,
        },
        # The Kratos of the courier fixtures (Tests/Fixtures/kratos-courier) issues its links there.
        "courier": {"allowed_link_origins": ["https://auth.example.com"]},
        "templates": {"dir": str(templates_dir or REPO / "templates")},
        "logging": {"format": "json", "level": "info"},
    }
    for dotted, value in (overrides or {}).items():
        section, key = dotted.split(".", 1)
        sections.setdefault(section, {})[key] = value
    lines = []
    for section, values in sections.items():
        lines.append(f"{section}:")
        for key, value in values.items():
            lines.append(f"  {key}: {json.dumps(value)}")
    lines.append("api_keys:")
    for name, (key, scopes) in KEYS.items():
        digest = hashlib.sha256(key.encode()).hexdigest()
        lines.append(f'  - name: {name}\n    sha256: "{digest}"\n    scopes: [{", ".join(scopes)}]')
    return "\n".join(lines) + "\n"


class Gateway:
    """The recovery-gateway binary serving one config; records every answer body it gave."""

    def __init__(self, workdir, config_text, name="gateway"):
        self.workdir = workdir
        self.config = os.path.join(workdir, f"{name}.yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.port = int(re.search(r"port: (\d+)", config_text).group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self.bodies = []
        self.name = name
        self.process = None
        self.runs = 0

    def start(self, ready=True):
        if not GATEWAY_BIN.exists():
            raise RuntimeError(f"{GATEWAY_BIN} missing: run `swift build` or set RECOVERY_GATEWAY_BIN_DIR")
        self.runs += 1
        self.stdout_path = os.path.join(self.workdir, f"{self.name}.{self.runs}.out")
        self.stderr_path = os.path.join(self.workdir, f"{self.name}.{self.runs}.err")
        self.stdout = open(self.stdout_path, "wb")
        self.stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(
            [str(GATEWAY_BIN), "serve", "--config", self.config],
            cwd=self.workdir,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        if ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        def up():
            if self.process.poll() is not None:
                raise AssertionError(f"gateway exited {self.process.returncode}: {self.logs()[-2000:]}")
            try:
                return http("GET", self.url + "/health/ready", timeout=2).status == 200
            except OSError:
                return False

        wait_for(up, timeout, what="gateway ready")

    def logs(self):
        text = ""
        for path in sorted(
            glob.glob(os.path.join(self.workdir, f"{self.name}.*.out"))
            + glob.glob(os.path.join(self.workdir, f"{self.name}.*.err"))
        ):
            with open(path, "rb") as f:
                text += f.read().decode("utf-8", "replace")
        return text

    def request(self, method, path, body=None, key="backend", headers=None, raw=None):
        all_headers = dict(headers or {})
        if key is not None:
            all_headers["Authorization"] = "Bearer " + (KEYS[key][0] if key in KEYS else key)
        answer = http(method, self.url + path, raw if raw is not None else body, all_headers)
        self.bodies.append(answer.body)
        return answer

    def send(self, body, idempotency_key, key="backend", wait=None, headers=None):
        all_headers = {"Idempotency-Key": idempotency_key, **(headers or {})}
        if wait:
            all_headers["Prefer"] = f"wait={wait}"
        return self.request("POST", "/v1/recovery-emails", body, key=key, headers=all_headers)

    def delivery(self, delivery_id):
        answer = self.request("GET", f"/v1/recovery-emails/{delivery_id}")
        assert answer.status == 200, answer
        return answer.json()

    def deliveries(self, **filters):
        """Every delivery (following next_cursor)."""
        items, cursor = [], None
        while True:
            query = dict(filters, limit=200)
            if cursor:
                query["cursor"] = cursor
            path = "/v1/recovery-emails?" + "&".join(f"{k}={urllib.request.quote(str(v))}" for k, v in query.items())
            answer = self.request("GET", path)
            assert answer.status == 200, answer
            page = answer.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    def audit_ndjson(self):
        answer = self.request("GET", "/v1/audit-events", headers={"Accept": "application/x-ndjson"})
        assert answer.status == 200, answer
        return [json.loads(line) for line in answer.body.decode().splitlines() if line.strip()]

    def wait_all_sent(self, timeout=120, what="every delivery sent"):
        """Every delivery in the store, once all of them are `sent`."""
        return wait_for(
            lambda: (d := self.deliveries()) and all(x["status"] == "sent" for x in d) and d,
            timeout,
            interval=0.5,
            what=what,
        )

    def wait_status(self, delivery_id, statuses, timeout=20):
        statuses = {statuses} if isinstance(statuses, str) else set(statuses)
        return wait_for(
            lambda: (d := self.delivery(delivery_id))["status"] in statuses and d,
            timeout,
            interval=0.1,
            what=f"delivery {delivery_id} in {statuses}",
        )

    def cli(self, *args, timeout=60):
        return subprocess.run(
            [str(GATEWAY_BIN), *args, "--config", self.config],
            cwd=self.workdir,
            capture_output=True,
            timeout=timeout,
        )

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._close()

    def stop(self, timeout=10):
        if self.process is None:
            return None
        code = stop_process(self.process, timeout)
        self._close()
        return code

    def _close(self):
        for f in (self.stdout, self.stderr):
            if not f.closed:
                f.close()


POSTGRES_SCRIPT = REPO / "scripts" / "postgres.sh"


class Postgres:
    """A PostgreSQL cluster of the tests' own (scripts/postgres.sh): a fresh database per test, and
    stop/start on the same port for the restart tests."""

    def __init__(self):
        # Not under pytest's tmp_path: the cluster runs as the `postgres` user, who cannot enter
        # root's 0700 pytest directory.
        self.directory = tempfile.mkdtemp(prefix="recovery-gateway-e2e-pg-")
        self.url = self._script("start")
        self.databases = 0
        self.last_database = None

    def _script(self, command):
        done = subprocess.run(
            [str(POSTGRES_SCRIPT), command, self.directory], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/postgres.sh {command} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def database_url(self, name):
        return self.url.rsplit("/", 1)[0] + "/" + name

    def query(self, database, sql):
        done = subprocess.run(
            ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", self.database_url(database), "-c", sql],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def create_database(self):
        """A new empty database; returns its URL (for `store.url`)."""
        self.databases += 1
        self.last_database = f"e2e_{self.databases}"
        self.query("postgres", f"CREATE DATABASE {self.last_database}")
        return self.database_url(self.last_database)

    def stop(self):
        self._script("stop")

    def start(self):
        self._script("start")

    def remove(self):
        self._script("stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def offline_verification(exporter, key_holder, directory):
    """An auditor's check: `audit verify --file --public-key` on `exporter`'s `audit export` with
    `key_holder`'s `audit public-key`, both written to `directory`; the completed process."""
    export = os.path.join(directory, "export.ndjson")
    exported = exporter.cli("audit", "export", "--output", export)
    assert exported.returncode == 0, exported.stderr.decode()
    public_key = os.path.join(directory, "audit.pub")
    with open(public_key, "wb") as f:
        f.write(key_holder.cli("audit", "public-key").stdout)
    return subprocess.run(
        [str(GATEWAY_BIN), "audit", "verify", "--file", export, "--public-key", public_key],
        capture_output=True,
        timeout=60,
        cwd=directory,
    )
