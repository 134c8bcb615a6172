"""deploy/systemd: the unit passes `systemd-analyze verify` and scores low on `systemd-analyze security`,
and the gateway, configured by deploy/systemd/gateway.yaml with its secrets where LoadCredential= puts
them, delivers an email and stops with exit 0 under the unit's syscall filter, no-new-privileges and
memory-deny-write-execute, applied to the process as systemd applies them (the container has no systemd
as PID 1, so the unit itself cannot be started here)."""

import collections
import re
import shutil
import subprocess
import sys

from deploy_support import DEPLOY, REPO, SANDBOX, deliver_one_email, require_gateway, write_credentials

UNIT = DEPLOY / "systemd" / "recovery-gateway.service"
CONFIG = DEPLOY / "systemd" / "gateway.yaml"
CREDENTIALS_DIR = "/run/credentials/recovery-gateway.service"
STATE_DIR = "/var/lib/recovery-gateway"
TEMPLATES_DIR = "/usr/local/share/recovery-gateway/templates"


def parse_unit(text):
    """{section: {key: [values in order]}} of a unit file."""
    sections, current = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), collections.defaultdict(list))
            continue
        key, _, value = line.partition("=")
        current[key.strip()].append(value.strip())
    return sections


def unit_with_binary(tmp_path, binary):
    """The unit, with ExecStart pointing at `binary` (verify wants an existing executable)."""
    text = UNIT.read_text()
    assert "ExecStart=/usr/local/bin/recovery-gateway serve" in text
    copy = tmp_path / "recovery-gateway.service"
    copy.write_text(text.replace("ExecStart=/usr/local/bin/recovery-gateway", f"ExecStart={binary}"))
    return copy


def test_unit_is_hardened_as_documented():
    service = parse_unit(UNIT.read_text())["Service"]
    expected = {
        "Type": "simple",
        "DynamicUser": "yes",
        "StateDirectory": "recovery-gateway",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute": "yes",
        "KillSignal": "SIGTERM",
        "Restart": "on-failure",
        "WorkingDirectory": STATE_DIR,
    }
    for key, value in expected.items():
        assert service[key] == [value], key
    assert service["SystemCallFilter"][0] == "@system-service"
    assert re.fullmatch(r"\d+s", service["TimeoutStopSec"][0])
    credentials = dict(value.split(":", 1) for value in service["LoadCredential"])
    assert set(credentials) == {"smtp-password", "kratos-token", "audit.key"}
    # gateway.yaml reads every credential from where systemd puts it, and keeps its state in StateDirectory.
    config = CONFIG.read_text()
    for name in credentials:
        assert f"{CREDENTIALS_DIR}/{name}" in config, name
    assert f"sqlite://{STATE_DIR}/gateway.sqlite" in config


def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    unit = unit_with_binary(tmp_path, require_gateway())
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr.strip() == "" and result.stdout.strip() == "", result


def test_systemd_analyze_verify_is_not_a_rubber_stamp(tmp_path):
    unit = unit_with_binary(tmp_path, require_gateway())
    unit.write_text(unit.read_text().replace("ProtectHome=yes", "ProtectHome=yes\nProtectHomes=yes"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert "Unknown key 'ProtectHomes'" in result.stderr, result


def test_security_exposure_is_low(tmp_path):
    unit = unit_with_binary(tmp_path, require_gateway())
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)], capture_output=True, text=True
    )
    assert result.returncode == 0, result
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", result.stdout)
    assert match, result.stdout[-500:]
    # 0 is fully locked down, 10 unprotected; what remains is network access, which the gateway needs.
    assert float(match.group(1)) <= 1.5 and match.group(2) == "OK", match.group(0)


def sandbox_prefix():
    service = parse_unit(UNIT.read_text())["Service"]
    filters = " ".join(service["SystemCallFilter"])
    (families,) = service["RestrictAddressFamilies"]
    return [sys.executable, str(SANDBOX), "--filter", filters, "--address-families", families, "--"]


def test_sandbox_really_restricts():
    """The sandbox the next test runs the gateway in refuses what the unit forbids."""
    probe = (
        "import ctypes, mmap, os, socket\n"
        "def mprotect_exec():\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    libc.mmap.restype = ctypes.c_void_p\n"
        "    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]\n"
        "    page = libc.mmap(None, 4096, 3, 0x22, -1, 0)\n"  # PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS
        "    if libc.mprotect(ctypes.c_void_p(page), 4096, 5) != 0:\n"  # PROT_READ|PROT_EXEC
        "        raise OSError(ctypes.get_errno(), 'mprotect')\n"
        "print('mdwe', ctypes.CDLL(None).prctl(66, 0, 0, 0, 0))\n"
        "for name, attempt in [('wx', lambda: mmap.mmap(-1, 4096, prot=7)), ('chroot', lambda: os.chroot('/')),\n"
        "                      ('setpriority', lambda: os.setpriority(os.PRIO_PROCESS, 0, 5)),\n"
        "                      ('netlink', lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)),\n"
        "                      ('inet', lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),\n"
        "                      ('mprotect-x', mprotect_exec)]:\n"
        "    try:\n"
        "        attempt(); print(name, 'allowed')\n"
        "    except OSError as e:\n"
        "        print(name, 'refused', e.errno)\n"
    )
    result = subprocess.run([*sandbox_prefix(), sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result
    lines = result.stdout.split("\n")
    assert lines[:7] == [
        "mdwe 1",
        "wx refused 1",
        "chroot refused 1",
        "setpriority refused 1",
        "netlink refused 1",
        "inet allowed",
        "mprotect-x refused 1",
    ], result
    # Without the sandbox the same probe is allowed (the test runs as root), so the refusals are its doing.
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        plain = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.split("\n")
        assert plain[:7] == [
            "mdwe 0",
            "wx allowed",
            "chroot allowed",
            "setpriority allowed",
            "netlink allowed",
            "inet allowed",
            "mprotect-x allowed",
        ], plain


def test_gateway_delivers_in_the_unit_layout_under_its_sandbox(tmp_path, processes):
    credentials = write_credentials(tmp_path / "credentials", "smtp-pass-7e1f", "ory_pat_deploy_3c9a")
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    templates = tmp_path / "share" / "templates"
    shutil.copytree(REPO / "templates", templates)
    text = CONFIG.read_text()
    for path in (CREDENTIALS_DIR, STATE_DIR, TEMPLATES_DIR):
        assert path in text, path
    config = tmp_path / "gateway.yaml"
    config.write_text(
        text.replace(CREDENTIALS_DIR, str(credentials))
        .replace(STATE_DIR, str(state))
        .replace(TEMPLATES_DIR, str(templates))
    )
    before = set(tmp_path.iterdir())
    # The peers by name: resolving it (glibc's NSS, /etc/hosts) happens inside the sandbox too.
    code, log = deliver_one_email(
        tmp_path, config, credentials, processes, prefix=sandbox_prefix(), cwd=state, peer_host="localhost"
    )
    assert code == 0, log[-3000:]
    assert "MDWE on" in log
    # Its state is where StateDirectory= says (the only writable place under ProtectSystem=strict).
    assert (state / "gateway.sqlite").exists()
    assert not (state / "data").exists()  # nothing fell back to a relative default
    for secret in ("smtp-pass-7e1f", "ory_pat_deploy_3c9a"):
        assert secret not in log
    assert {p.name for p in set(tmp_path.iterdir()) - before} <= {
        "stand-in.err",
        "stand-in-token",
        "smtp",
        "smtp.log",
        "smtp.port",
        *{p.name for p in tmp_path.glob("gateway-*.log")},
    }
