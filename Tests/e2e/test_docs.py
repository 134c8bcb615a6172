"""The documentation's requests, run: every `curl` command of README.md and docs/*.md against a real
gateway (the stand-in, an SMTP server), the README's answer compared with the real one, and the
`kratos.yml` courier snippet of docs/kratos.md evaluated with the real jsonnet and posted as Kratos
posts it. The commands' options and the settings the pages name are checked by the Swift suites
(DocumentationTests, DocumentedConfigurationTests)."""

import base64
import json
import pathlib
import re
import shlex
import subprocess

import pytest
import yaml

from harness import ALICE, KEYS, REPO
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
