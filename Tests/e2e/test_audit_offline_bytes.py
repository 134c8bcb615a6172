"""The offline verifier reads the export's bytes, not what one JSON reader makes of them (issue 23):
a signed line with a member given twice (Foundation keeps the first, jq and Python the last) or a
member the export does not have is a break naming its line, and so is any other form than the one
the gateway writes. `--require-signed` fails on events no signature covers; `--expect-seq` and
`--expect-head` pin the log's end the auditor was told of apart from the export."""

import json
import subprocess

import pytest

from harness import ALICE, GATEWAY_BIN
from test_audit_checkpoints import wait_all_covered


@pytest.fixture
def signed_export(stack, tmp_path):
    """An export of a log whose last checkpoint covers every other event, its lines, and the public key."""
    gateway = stack.start_gateway(overrides={"audit.checkpoint_interval": "300ms", "audit.checkpoint_every_events": 3})
    # Two rounds, each covered by a checkpoint of its own: the last one covers events no other does.
    for first in (0, 2):
        for n in range(first, first + 2):
            assert gateway.send({"identity_id": ALICE, "reason": f"bytes {n}"}, f"bytes-{n}").status == 202
        gateway.wait_all_sent()
        wait_all_covered(gateway, 2 * (first + 2))
    gateway.stop()
    export = tmp_path / "export.ndjson"
    assert gateway.cli("audit", "export", "--output", str(export)).returncode == 0
    (tmp_path / "audit.pub").write_bytes(gateway.cli("audit", "public-key").stdout)
    return tmp_path, export.read_bytes().decode().splitlines(keepends=True)


def verify(directory, lines, *options):
    (directory / "check.ndjson").write_text("".join(lines))
    result = subprocess.run(
        [str(GATEWAY_BIN), "audit", "verify", "--file", "check.ndjson", "--public-key", "audit.pub", *options],
        cwd=directory,
        capture_output=True,
        timeout=60,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def test_a_line_other_than_the_gateways_is_a_break_naming_it(signed_export):
    directory, lines = signed_export
    status, out, err = verify(directory, lines)
    assert status == 0, err
    # Line 2 is covered by a verified checkpoint; each change below leaves what Foundation decodes
    # from it as it was, so only the bytes tell.
    second = lines[1]
    assert json.loads(second)["seq"] == 2
    changed = {
        "a member twice": second[:-2] + ',"actor":"mallory"}\n',
        "an unknown member": second[:-2] + ',"approved_by":"ciso"}\n',
        "spacing": json.dumps(json.loads(second)) + "\n",
        "another order": json.dumps(json.loads(second), separators=(",", ":")) + "\n",
        "an escaped slash": second.replace("recovery", "recovery\\/", 1) if "recovery" in second else None,
        "a blank line": "\n" + second,
        "CRLF": second[:-1] + "\r\n",
    }
    for what, line in changed.items():
        if line is None or line == second:
            continue
        status, out, err = verify(directory, lines[:1] + [line] + lines[2:])
        assert status == 1, (what, out, err)
        assert "line 2:" in err, (what, err)
    # A last line cut short of its line feed is a break too.
    status, out, err = verify(directory, lines[:-1] + [lines[-1].rstrip("\n")])
    assert status == 1 and f"line {len(lines)}:" in err, err


def test_require_signed_and_the_expected_end(signed_export):
    directory, lines = signed_export
    events = [json.loads(line) for line in lines]
    last = events[-1]
    assert last["action"] == "audit.checkpoint"
    status, out, err = verify(
        directory, lines, "--require-signed", "--expect-seq", str(last["seq"]), "--expect-head", last["hash"]
    )
    assert status == 0, err
    assert "require signed: every event is covered by a signature" in out, out
    assert f"expected seq: the export ends at seq {last['seq']}" in out, out

    # Without the last checkpoint, the events it alone covered are linked but unsigned: the plain
    # check passes (and says so), --require-signed does not, nor the length or head the auditor was told.
    cut = lines[:-1]
    status, out, err = verify(directory, cut)
    assert status == 0 and "unsigned tail: seq" in out, (out, err)
    status, out, err = verify(directory, cut, "--require-signed")
    assert status == 1 and "not every event is signed" in err, err
    status, out, err = verify(directory, cut, "--expect-seq", str(last["seq"]))
    assert status == 1 and f"not the expected {last['seq']}" in err, err
    status, out, err = verify(directory, cut, "--expect-head", last["hash"])
    assert status == 1 and "--expect-head" in err, err

    # A malformed demand is a usage error (exit 2).
    assert verify(directory, lines, "--expect-head", "xyz")[0] == 2
    assert (
        subprocess.run(
            [str(GATEWAY_BIN), "audit", "verify", "--require-signed"], capture_output=True, timeout=60
        ).returncode
        == 2
    )
