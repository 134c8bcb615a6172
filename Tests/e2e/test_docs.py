"""The documentation's requests and commands, run: every `curl` command of README.md and docs/*.md
against a real gateway (the stand-in, an SMTP server), the README's answer compared with the real one,
the README's production configuration served by its `serve` line, the README's `keys new` and docs/api.md's `send`, `status` and `list` lines run as written,
docs/auditors.md's procedure (with the binary and with openssl alone) run step by step, and the
`kratos.yml` courier snippet of docs/kratos.md evaluated with the real jsonnet and posted as Kratos
posts it. The options of every command line and the settings the pages name are checked by the Swift
suites (DocumentationTests, DocumentedConfigurationTests)."""

import base64
import hashlib
import json
import pathlib
import re
import shlex
import signal
import subprocess

import pytest
import yaml

from harness import ALICE, GATEWAY_BIN, KEYS, REPO, free_port, http, wait_for
from kratos_courier import KratosCourierClient, ctx_documents

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def fenced_blocks(path, language):
    """The fenced code blocks of one language in a Markdown file, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```$", path.read_text(), re.S | re.M)


def curl_commands(path):
    """Every `curl` command of the page's sh blocks: from its line to the line that ends it (no `\\` at
    the end, every quote closed)."""
    commands = []
    for block in fenced_blocks(path, "sh"):
        lines = iter(block.splitlines())
        for line in lines:
            if not line.lstrip().startswith("curl "):
                continue
            command = line
            while command.endswith("\\") or not complete(command):
                command += "\n" + next(lines)
            commands.append(command.strip())
    return commands


def complete(command):
    try:
        shlex.split(command)
        return True
    except ValueError:  # an open quote
        return False


DOCUMENTED_CURLS = [(path.relative_to(REPO).as_posix(), c) for path in PAGES for c in curl_commands(path)]


def run_curl(command, gateway, key):
    """Runs a documented curl command in bash against `gateway` with `$key` set; the answer's status and body."""
    command = command.replace("http://127.0.0.1:8080", gateway.url)
    command = command.replace("curl ", "curl -s -o answer.body -w '%{http_code}' ", 1)
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=gateway.workdir,
        env={"key": key, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout), (pathlib.Path(gateway.workdir) / "answer.body").read_bytes()


def test_the_pages_have_curl_commands():
    pages = {page for page, _ in DOCUMENTED_CURLS}
    assert {"README.md", "docs/api.md", "docs/batches.md"} <= pages, pages


@pytest.mark.parametrize(
    "page,command", DOCUMENTED_CURLS, ids=[f"{p}:{i}" for i, (p, _) in enumerate(DOCUMENTED_CURLS)]
)
def test_every_documented_curl_command_succeeds(stack, page, command):
    gateway = stack.start_gateway()
    status, body = run_curl(command, gateway, KEYS["admin"][0])
    assert 200 <= status < 300, (status, body[:500])


def test_the_readme_answer_is_the_real_answer(stack):
    """The README's request answers what the README shows: the same members, the same values where they
    do not depend on the run (ids, times)."""
    gateway = stack.start_gateway()
    readme = REPO / "README.md"
    [command] = curl_commands(readme)
    [shown] = [json.loads(block) for block in fenced_blocks(readme, "json")]
    status, body = run_curl(command, gateway, KEYS["backend"][0])
    assert status == 200, body
    answer = json.loads(body)
    assert list(answer) == list(shown)
    for stable in ("status", "identity_id", "recipient", "method", "template", "source", "locale", "attempts"):
        assert answer[stable] == shown[stable], stable
    assert answer["identity_id"] == ALICE
    assert re.fullmatch(r"<[0-9a-f-]{36}@example\.com>", shown["message_id"])
    assert re.fullmatch(r"<.+@example\.com>", answer["message_id"])


def courier_snippet():
    """docs/kratos.md's kratos.yml courier configuration (the YAML block with `courier:`)."""
    blocks = [yaml.safe_load(b) for b in fenced_blocks(REPO / "docs" / "kratos.md", "yaml")]
    [config] = [b for b in blocks if "courier" in b]
    return config["courier"]


def test_the_documented_kratos_courier_configuration_delivers(stack, tmp_path):
    """Kratos configured as docs/kratos.md says: its jsonnet body (base64://) evaluated over Kratos's
    documents with the real jsonnet, posted with its auth header to its route; the gateway accepts every
    type and delivers it once."""
    courier = courier_snippet()
    assert courier["delivery_strategy"] == "http"
    request = courier["http"]["request_config"]
    assert request["method"] == "POST"
    url = request["url"]
    assert url.startswith("https://") and url.endswith("/v1/courier/kratos")
    scheme, encoded = request["body"].split("://", 1)
    assert scheme == "base64"
    body = tmp_path / "body.jsonnet"
    body.write_bytes(base64.b64decode(encoded))
    auth = request["auth"]
    assert auth["type"] == "api_key" and auth["config"]["in"] == "header"
    assert auth["config"]["value"].startswith("Bearer ")

    gateway = stack.start_gateway()
    path = url[url.index("/v1/") :]
    client = KratosCourierClient(
        gateway.url + path, "Bearer " + KEYS["kratos"][0], header_name=auth["config"]["name"], body=body
    )
    documents = ctx_documents()
    for template_type, ctx in documents.items():
        attempt = client.dispatch(ctx)
        assert attempt.status == 202, (template_type, attempt)
    sent = gateway.wait_all_sent()
    assert len(sent) == len(documents)
    assert {d["template_type"] for d in sent} == set(documents)


def gateway_command_lines(path):
    """The `recovery-gateway …` lines of a page's sh blocks (without a `$ ` prompt: those show output)."""
    return [
        line.strip()
        for block in fenced_blocks(path, "sh")
        for line in re.sub(r"\\\n\s*", " ", block).splitlines()
        if line.startswith("recovery-gateway ")
    ]


def run_gateway_command(line, environment, cwd):
    words = shlex.split(line.split(" #")[0])
    return subprocess.run(
        [str(GATEWAY_BIN), *words[1:]],
        env={"PATH": "/usr/bin:/bin", **environment},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_readmes_key_command_prints_a_key_and_its_configuration_line(tmp_path):
    """`keys new` as the README runs it: a key, and the `api_keys` line with its SHA-256 and the scopes."""
    [line] = [c for c in gateway_command_lines(REPO / "README.md") if c.startswith("recovery-gateway keys new")]
    result = run_gateway_command(line, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    key = re.search(r"^key: (rg_\S+)$", result.stdout, re.M).group(1)
    entry = yaml.safe_load(result.stdout.split("\n", 1)[1])[0]
    assert entry["sha256"] == hashlib.sha256(key.encode()).hexdigest()
    assert entry["name"] == "support-desk" and entry["scopes"] == ["recovery:send", "recovery:read"]


def test_the_api_pages_command_lines_run_against_a_gateway(stack):
    """docs/api.md's `send`, `status` and `list` lines, run as written against a real gateway (the
    key from RECOVERY_GATEWAY_API_KEY, as the page says), the shown delivery id replaced by the one sent."""
    gateway = stack.start_gateway()
    environment = {"RECOVERY_GATEWAY_SERVER": gateway.url, "RECOVERY_GATEWAY_API_KEY": KEYS["backend"][0]}
    lines = gateway_command_lines(REPO / "docs" / "api.md")
    assert [line.split()[1] for line in lines] == ["send", "status", "list"]
    sent = run_gateway_command(lines[0], environment, gateway.workdir)
    assert sent.returncode == 0, sent.stderr
    delivery = re.search(r"^id\s+(\S+)$", sent.stdout, re.M).group(1)
    shown = re.search(r"[0-9a-f]{8}-[0-9a-f-]{27}", lines[1]).group(0)
    for line in lines[1:]:
        result = run_gateway_command(line.replace(shown, delivery), environment, gateway.workdir)
        assert result.returncode == 0, (line, result.stderr)
    assert (
        json.loads(run_gateway_command(lines[1].replace(shown, delivery), environment, gateway.workdir).stdout)[
            "status"
        ]
        == "sent"
    )


def inline_commands(path, prefix):
    """The inline code spans of a page that start with `prefix`."""
    return [span for span in re.findall(r"`([^`\n]+)`", path.read_text()) if span.startswith(prefix)]


def test_the_auditors_procedure_runs_as_written(stack, tmp_path):
    """docs/auditors.md, step by step: the operator's export and public-key commands (`F` the gateway's
    configuration), the auditor's `audit verify` (its output has the lines the page shows), and the check
    without the binary: the page's openssl commands verify the last checkpoint's signature and print the
    key id it names."""
    gateway = stack.start_gateway(overrides={"audit.checkpoint_interval": "200ms", "audit.checkpoint_every_events": 2})
    for n in range(3):
        assert gateway.send({"identity_id": ALICE, "reason": f"auditors {n}"}, f"auditors-{n}").status == 202
    gateway.wait_all_sent()
    wait_for(lambda: '"audit.checkpoint"' in gateway.cli("audit", "export").stdout.decode(), 30, what="a checkpoint")
    gateway.stop()

    page = REPO / "docs" / "auditors.md"
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    shell = {"PATH": f"{GATEWAY_BIN.parent}:/usr/bin:/bin"}
    operator = inline_commands(page, "recovery-gateway audit export") + inline_commands(
        page, "recovery-gateway audit public-key"
    )
    assert len(operator) == 2, operator
    for command in operator:
        run = subprocess.run(
            ["bash", "-c", command.replace(" F ", f" {gateway.config} ")],
            cwd=auditor,
            env=shell,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, (command, run.stderr)

    [verify_block, demand_block, openssl_block] = fenced_blocks(page, "sh")
    command, *shown = verify_block.splitlines()
    run = subprocess.run(
        ["bash", "-c", command.removeprefix("$ ")], cwd=auditor, env=shell, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    labels = [line.split(":")[0] for line in run.stdout.splitlines()]
    documented = [line.split(":")[0] for line in shown]
    assert labels[:2] == documented[:2] and set(labels) <= set(documented) | {"signing keys"}, run.stdout

    events = [json.loads(line) for line in (auditor / "export.ndjson").read_text().splitlines()]
    # The auditor's demands, with the last seq and head told to them apart from the export.
    demand = " ".join(demand_block.removeprefix("$ ").replace("\\\n", " ").split())
    demand = demand.replace("--expect-seq 2051", f"--expect-seq {events[-1]['seq']}")
    demand = demand.replace("--expect-head 9c1f…", f"--expect-head {events[-1]['hash']}")
    run = subprocess.run(["bash", "-c", demand], cwd=auditor, env=shell, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 or "unsigned" in run.stderr or "not covered" in run.stderr, run.stderr
    wrong = demand.replace(f"--expect-seq {events[-1]['seq']}", f"--expect-seq {events[-1]['seq'] + 1}")
    run = subprocess.run(["bash", "-c", wrong], cwd=auditor, env=shell, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stderr
    checkpoint = [e for e in events if e["action"] == "audit.checkpoint"][-1]["details"]
    variables = {"SEQ": "seq", "DIGEST": "digest", "HEAD": "head", "SIGNED_AT": "signed_at", "SIGNATURE": "signature"}
    run = subprocess.run(
        ["bash", "-c", openssl_block],
        cwd=auditor,
        capture_output=True,
        text=True,
        timeout=60,
        env={**shell, **{name: checkpoint[key] for name, key in variables.items()}},
    )
    assert run.returncode == 0, run.stderr
    assert "Signature Verified Successfully" in run.stdout, run.stdout
    assert run.stdout.splitlines()[-1].strip() == checkpoint["key_id"], run.stdout


def test_the_readmes_production_configuration_serves(tmp_path):
    """The README's shortest production configuration, served by the README's `serve` line: its files
    moved under a temporary directory (secrets made, the templates the repository's), on loopback and a
    free port; it becomes ready and stops cleanly on SIGTERM."""
    readme = REPO / "README.md"
    [block] = [b for b in fenced_blocks(readme, "yaml") if "api_keys:" in b]
    key = run_gateway_command("recovery-gateway keys new --name support-desk --scope recovery:send", {}, tmp_path)
    digest = yaml.safe_load(key.stdout.split("\n", 1)[1])[0]["sha256"]
    text = re.sub(r'sha256: "<[^>]*>"', f'sha256: "{digest}"', block)
    for path in sorted(set(re.findall(r"(?<=[ /])/(?:run|var|usr)/[^\s\"#]+", text)), key=len, reverse=True):
        moved = tmp_path / path.lstrip("/")
        moved.parent.mkdir(parents=True, exist_ok=True)
        if path.startswith("/run/secrets/"):
            moved.write_text("secret\n")
        text = text.replace(path, str(moved))
    templates = tmp_path / "usr/local/share/recovery-gateway/templates"
    templates.symlink_to(REPO / "templates")
    (tmp_path / "gateway.yaml").write_text(text)
    [serve] = [c for c in gateway_command_lines(readme) if c.startswith("recovery-gateway serve")]
    port = free_port()
    words = shlex.split(serve)
    process = subprocess.Popen(
        [str(GATEWAY_BIN), *words[1:]],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "RECOVERY_GATEWAY_SERVER_HOST": "127.0.0.1",
            "RECOVERY_GATEWAY_SERVER_PORT": str(port),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: ready(port, process), 30, what="the README's configuration ready")
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output[-2000:]


def ready(port, process):
    assert process.poll() is None, process.stdout.read()[-2000:]
    try:
        return http("GET", f"http://127.0.0.1:{port}/health/ready", timeout=2).status == 200
    except OSError:
        return False
