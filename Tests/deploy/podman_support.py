"""podman for the image tests: the runtime image built from deploy/Containerfile, unchanged, with the release
binary CI built (its `prebuilt` stage), on a local Debian base; containers run from it on the host's network.

podman runs as root with Tests/deploy/containers.conf (runc, cgroupfs, no default ulimits: what this
machine's kernel and cgroups take). No registry is reachable: scripts/debian-base-image.sh makes the
base image from Debian's mirror once per machine (podman's storage keeps it), and builds use --pull=never.
"""

import json
import os
import pathlib
import shutil
import subprocess
import time

from deploy_support import DEPLOY, REPO, harness

CONTAINERS_CONF = pathlib.Path(__file__).resolve().parent / "containers.conf"
IMAGE = "localhost/recovery-gateway:test"
# The release binary the image gets (scripts/test.sh builds it once for this test and the instruction guard).
RELEASE_BIN = pathlib.Path(
    os.environ.get("RECOVERY_GATEWAY_RELEASE_BIN", REPO / ".build" / "release" / "recovery-gateway")
)


def podman(*args, check=True, timeout=600, **kwargs):
    """Runs `podman ARGS` with the tests' containers.conf; the completed process (text)."""
    if not shutil.which("podman"):
        raise RuntimeError("podman is missing: run scripts/install-deps.sh")
    environment = dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, env=environment, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {done.returncode}: {done.stderr[-3000:]}")
    return done


def base_image():
    """The Containerfile's runtime base (its last FROM), made locally when podman does not have it; the
    seconds that took (0 when it was there)."""
    froms = [
        line.split()[1] for line in (DEPLOY / "Containerfile").read_text().splitlines() if line.startswith("FROM ")
    ]
    name = "docker.io/library/" + froms[-1]
    started = time.monotonic()
    environment = dict(os.environ, CONTAINERS_CONF=str(CONTAINERS_CONF))
    done = subprocess.run(
        [str(REPO / "scripts" / "debian-base-image.sh"), name],
        capture_output=True,
        text=True,
        timeout=1200,
        env=environment,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return name, (time.monotonic() - started if "made" in done.stderr else 0.0)


def build_image(workdir):
    """Builds IMAGE from the shipped Containerfile and context, taking RELEASE_BIN (stripped of its debug
    information, as the build stage strips it) instead of building in the Swift image; the seconds it took."""
    if not RELEASE_BIN.exists():
        raise RuntimeError(
            f"{RELEASE_BIN} missing: `swift build -c release --product recovery-gateway`, or set "
            "RECOVERY_GATEWAY_RELEASE_BIN (scripts/test.sh does)"
        )
    release = pathlib.Path(workdir) / "release"
    release.mkdir()
    subprocess.run(["strip", "--strip-debug", "-o", str(release / "recovery-gateway"), str(RELEASE_BIN)], check=True)
    previous = podman("image", "inspect", "--format", "{{.Id}}", IMAGE, check=False).stdout.strip()
    started = time.monotonic()
    podman(
        # docker format: OCI images have no HEALTHCHECK (podman drops it with a warning).
        "build",
        "--pull=never",
        "--network=host",
        "--format=docker",
        "--file",
        str(DEPLOY / "Containerfile"),
        "--ignorefile",
        str(DEPLOY / "Containerfile.dockerignore"),
        "--build-arg",
        "BINARY_FROM=prebuilt",
        "--build-context",
        f"release={release}",
        "--tag",
        IMAGE,
        str(REPO),
        timeout=1200,
    )
    took = time.monotonic() - started
    current = podman("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    if previous and previous != current:
        podman("rmi", previous, check=False)  # the last run's image, untagged now
    return took


def image_size(name):
    return int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout.strip())


class Container:
    """`podman run -d` of IMAGE on the host's network with a read-only root file system; removed at stop()."""

    def __init__(self, name, port, env, volumes, args=()):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        podman("rm", "--force", "--ignore", name)
        options = ["--detach", "--name", name, "--network=host", "--read-only"]
        for key, value in {**env, "RECOVERY_GATEWAY_SERVER_PORT": str(port)}.items():
            options += ["--env", f"{key}={value}"]
        for volume in volumes:
            options += ["--volume", volume]
        self.started = time.monotonic()
        podman("run", *options, IMAGE, *args)
        self.removed = False

    def inspect(self):
        (state,) = json.loads(podman("inspect", "--type", "container", self.name).stdout)
        return state

    def logs(self):
        done = podman("logs", self.name, check=False)
        return done.stdout + done.stderr

    def wait_ready(self, timeout=60):
        """Waits for /health/ready from the host; the seconds since `podman run` began."""

        def ready():
            if not self.inspect()["State"]["Running"]:
                raise AssertionError(f"container {self.name} ended: {self.logs()[-3000:]}")
            try:
                return harness.http("GET", self.url + "/health/ready", timeout=2).status == 200
            except OSError:
                return False

        harness.wait_for(ready, timeout, interval=0.05, what=f"{self.name} ready")
        return time.monotonic() - self.started

    def health(self):
        """Runs the image's HEALTHCHECK once (podman runs it on a timer only under systemd); the state
        podman then records."""
        podman("healthcheck", "run", self.name, check=False)
        state = self.inspect()["State"]
        return (state.get("Health") or state.get("Healthcheck") or {}).get("Status")

    def exec(self, *command, check=True):
        return podman("exec", self.name, *command, check=check, timeout=120)

    def rss_kb(self):
        """VmRSS of the container's PID 1 (the gateway: the ENTRYPOINT is exec form), read inside it."""
        status = self.exec("cat", "/proc/1/status").stdout
        (line,) = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1])

    def stop(self, timeout=30):
        """`podman stop` (the image's STOPSIGNAL, then SIGKILL after `timeout` s); the exit code."""
        podman("stop", "--time", str(timeout), self.name, timeout=timeout + 60)
        code = self.inspect()["State"]["ExitCode"]
        self.remove()
        return code

    def remove(self):
        if not self.removed:
            podman("rm", "--force", "--ignore", self.name, check=False)
            self.removed = True
