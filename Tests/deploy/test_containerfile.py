"""deploy/Containerfile, read (Tests/deploy/test_image.py builds and runs it with podman). What is checked:
hadolint's rules, the build's structure (multi-stage, static Swift runtime, non-root user, no secret),
that the build copies what Package.swift needs, that the runtime stage installs the libraries the
binary links, and, with the real binary laid out as in the image (/app, config/gateway.yaml's
defaults), that it starts, answers the HEALTHCHECK command and stops with exit 0 on SIGTERM."""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import yaml

from deploy_support import (
    DEPLOY,
    REPO,
    GatewayProcess,
    as_user,
    harness,
    image_user,
    require_gateway,
    unprivileged_copy,
)

CONTAINERFILE = DEPLOY / "Containerfile"
IGNORE_FILE = DEPLOY / "Containerfile.dockerignore"
# Libraries debian:bookworm-slim has without installing anything (essential packages and apt's own).
BASE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|_KEY\b|CREDENTIAL", re.IGNORECASE)


def instructions():
    """[(stage index, INSTRUCTION, argument text)] with continuation lines joined and comments dropped."""
    found, stage, pending = [], -1, ""
    for line in CONTAINERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, rest = text.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        found.append((stage, keyword, rest.strip()))
    assert not pending, "the file ends inside a continued line"
    return found


# The stages: build (the Swift image), prebuilt (a binary built outside), binary (the one of the two
# BINARY_FROM names) and runtime (what users run).
BUILD, PREBUILT, BINARY, RUNTIME = range(4)


def of(keyword, stage=None):
    return [rest for s, k, rest in instructions() if k == keyword and (stage is None or s == stage)]


def exec_form(text):
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), text
    return value


def apt_packages(run_text):
    match = re.search(r"apt-get install ((?:-\S+ )*)([^&]+)", run_text)
    return set(match.group(2).split()) if match else set()


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(pathlib.Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, "--no-color", str(CONTAINERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_not_a_rubber_stamp(tmp_path):
    hadolint = shutil.which("hadolint") or str(pathlib.Path(sys.executable).parent / "hadolint")
    bad = tmp_path / "Containerfile"
    bad.write_text(CONTAINERFILE.read_text().replace("USER 10001:10001", "USER root"))
    result = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3002" in result.stdout, result.stdout  # "last USER should not be root"


def test_build_stages_static_build_small_runtime():
    froms = of("FROM")
    assert len(froms) == 4, froms
    assert re.fullmatch(r"swift:\$\{SWIFT_VERSION\}-bookworm AS build", froms[BUILD]), froms[BUILD]
    swift_version = [a for a in of("ARG") if a.startswith("SWIFT_VERSION=")]
    assert swift_version and re.fullmatch(r"SWIFT_VERSION=6\.\d+(\.\d+)?", swift_version[0])
    build_runs = " ".join(of("RUN", stage=BUILD))
    assert "swift build -c release --static-swift-stdlib" in build_runs
    assert {"libcurl4-openssl-dev", "libsqlite3-dev"} <= apt_packages(build_runs)
    # The binary comes from the build stage unless BINARY_FROM=prebuilt names a binary built outside;
    # both leave it in /out, and nothing else.
    assert froms[PREBUILT] == "scratch AS prebuilt"
    assert of("COPY", PREBUILT) == ["--from=release recovery-gateway /out/recovery-gateway"]
    assert froms[BINARY] == "${BINARY_FROM} AS binary" and "BINARY_FROM=build" in of("ARG")
    assert [k for s, k, _ in instructions() if s == BINARY] == ["FROM"]
    assert froms[RUNTIME] == "debian:bookworm-slim AS runtime"
    runtime_runs = " ".join(of("RUN", stage=RUNTIME))
    assert apt_packages(runtime_runs) <= {"libcurl4", "libsqlite3-0", "ca-certificates", "tzdata"}
    assert "--no-install-recommends" in runtime_runs and "rm -rf /var/lib/apt/lists/*" in runtime_runs
    # The runtime stage takes the binary from that stage, not the toolchain.
    copies = of("COPY", RUNTIME)
    assert any(c.startswith("--from=binary ") and c.endswith(" /usr/local/bin/recovery-gateway") for c in copies)


def test_runs_as_a_fixed_non_root_user():
    users = [(s, rest) for s, k, rest in instructions() if k == "USER"]
    assert users and users[-1][0] == RUNTIME, users
    uid, _, gid = users[-1][1].partition(":")
    assert uid.isdigit() and int(uid) >= 1000 and gid.isdigit() and int(gid) >= 1000, users[-1]
    runtime = " ".join(of("RUN", stage=RUNTIME))
    assert f"useradd --system --uid {uid} --gid {gid}" in runtime
    # The data and key directories belong to that user; nothing else is chowned to it.
    assert f"install -d -o {uid} -g {gid} -m 0700 /app/data /app/keys" in runtime
    # The USER line comes before the ENTRYPOINT.
    order = [k for s, k, _ in instructions() if s == RUNTIME]
    assert order.index("USER") < order.index("ENTRYPOINT")


def test_entrypoint_port_and_config():
    assert exec_form(of("ENTRYPOINT")[-1]) == ["recovery-gateway", "serve"]
    assert exec_form(of("CMD", RUNTIME)[-1]) == ["--config", "/app/config/gateway.yaml"]
    defaults = yaml.safe_load((REPO / "config" / "gateway.yaml").read_text())
    assert of("EXPOSE") == [str(defaults["server"]["port"])]
    assert of("WORKDIR", RUNTIME) == ["/app"]
    assert of("STOPSIGNAL") == ["SIGTERM"]


def test_no_secret_is_baked_in():
    for _stage, keyword, rest in instructions():
        if keyword in ("ENV", "ARG", "LABEL"):
            name = rest.split("=", 1)[0].split()[0]
            assert not SECRET_NAME.search(name), rest
            assert not re.search(r"://[^/\s:@]+:[^@\s]+@", rest), rest  # no user:password@ in a URL
        if keyword in ("COPY", "ADD"):
            assert keyword == "COPY", "ADD can fetch URLs and unpack archives: use COPY"
            sources = [w for w in rest.split()[:-1] if not w.startswith("--")]
            for source in sources:
                assert not re.search(r"\.key$|secret|credential|password|token|\.venv|data", source), source
    assert not re.search(r"RECOVERY_GATEWAY_AUDIT_KEY|_PASSWORD_FILE|_TOKEN_FILE", CONTAINERFILE.read_text())


def test_build_copies_every_target_and_the_ignore_file_lets_it_through():
    copied = []
    for rest in of("COPY"):
        if rest.startswith("--from"):
            continue
        copied += [w.rstrip("/") for w in rest.split()[:-1]]
    # The fuzz targets (`if fuzzing { … }`, scripts/fuzz.sh) are not in the manifest the image builds.
    manifest = (REPO / "Package.swift").read_text().split("\nif fuzzing {")[0]
    explicit = re.findall(r'path:\s*"([^"]+)"', manifest)
    needed = {"Package.swift", "Sources", "Tests", "templates", "config/gateway.yaml"} | {
        p.split("/")[0] for p in explicit
    }
    assert needed <= set(copied), needed - set(copied)
    for path in copied:
        assert (REPO / path).exists(), path
    ignore = [
        line.strip() for line in IGNORE_FILE.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "**"
    for path in copied:
        assert f"!{path}" in ignore, f"{path} is excluded from the build context"
    assert "**/.build*" in ignore


def test_runtime_installs_what_the_binary_links():
    """The direct NEEDED libraries of the gateway, less the Swift runtime (linked in by
    --static-swift-stdlib), must come from the runtime stage's packages or the slim base.
    RECOVERY_GATEWAY_STATIC_BIN names a binary built as the Containerfile builds it, to check that one."""
    binary = os.environ.get("RECOVERY_GATEWAY_STATIC_BIN") or str(require_gateway())
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    swift_runtime = re.compile(r"^(libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|libXCTest)")
    system = [lib for lib in needed if not swift_runtime.match(lib)]
    assert "libcurl.so.4" in system and "libsqlite3.so.0" in system, system
    allowed = BASE_PACKAGES | apt_packages(" ".join(of("RUN", stage=RUNTIME)))
    for lib in system:
        owner = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True, text=True)
        assert owner.returncode == 0, f"{lib}: {owner.stderr}"
        packages = {line.split(":")[0] for line in owner.stdout.splitlines()}
        assert packages & allowed, f"{lib} comes from {packages}, which the runtime stage does not install"


def healthcheck_command():
    rest = of("HEALTHCHECK")[-1]
    options, _, command = rest.partition("CMD ")
    assert re.search(r"--interval=\d+s", options) and re.search(r"--timeout=\d+s", options)
    return exec_form(command)


def test_image_layout_serves_and_answers_its_healthcheck(open_tmp, processes):
    """The image's /app, rebuilt in a temp dir and run as the image's user: config/gateway.yaml
    unchanged, its relative defaults (templates, data/gateway.sqlite, keys/audit.key) resolved from the
    WORKDIR, the image's ENV set; only /app/data and /app/keys are writable for that user, as in the image."""
    uid, gid = image_user()
    app = open_tmp / "app"
    shutil.copytree(REPO / "templates", app / "templates")
    (app / "config").mkdir()
    shutil.copy(REPO / "config" / "gateway.yaml", app / "config" / "gateway.yaml")
    for volume in ("data", "keys"):
        (app / volume).mkdir(mode=0o700)
        os.chown(app / volume, uid, gid)
    for path in [app, *app.rglob("*")]:
        if path not in (app / "data", app / "keys"):
            path.chmod(0o755 if path.is_dir() else 0o644)
    env = dict(rest.split("=", 1) for rest in of("ENV", RUNTIME))
    assert env == {"RECOVERY_GATEWAY_SERVER_HOST": "0.0.0.0"}, env
    config = exec_form(of("CMD", RUNTIME)[-1])[1].replace("/app", str(app))
    port = harness.free_port()
    env["RECOVERY_GATEWAY_SERVER_PORT"] = str(port)  # as `docker run -e` would set it; the healthcheck reads it
    gateway = GatewayProcess(
        open_tmp, config, env=env, cwd=app, port=port, prefix=as_user(uid, gid), binary=unprivileged_copy(open_tmp)
    )
    processes.append(gateway)
    gateway.wait_ready()
    assert f"listening on 0.0.0.0:{gateway.port}" in gateway.log()
    for name in ("data/gateway.sqlite", "keys/audit.key", "keys/audit-signing.key"):
        assert (app / name).stat().st_uid == (uid if os.geteuid() == 0 else os.geteuid()), name
    assert oct((app / "keys" / "audit.key").stat().st_mode & 0o777) == "0o600"
    assert not (app / "data" / "audit.key").exists()

    check_env = {"PATH": os.environ["PATH"], "RECOVERY_GATEWAY_SERVER_PORT": str(gateway.port)}
    healthy = subprocess.run(healthcheck_command(), env=check_env, capture_output=True, timeout=10)
    assert healthy.returncode == 0, healthy
    assert gateway.stop() == 0, gateway.log()[-3000:]
    unhealthy = subprocess.run(healthcheck_command(), env=check_env, capture_output=True, timeout=10)
    assert unhealthy.returncode != 0
    # Nothing was written outside the data and key volumes.
    written = {p.relative_to(app) for p in app.rglob("*") if p.stat().st_uid == uid} if os.geteuid() == 0 else None
    assert written is None or {p.parts[0] for p in written} <= {"data", "keys"}, written
