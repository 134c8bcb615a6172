"""The deploy tests need the real recovery-gateway (and, for a delivery, kratos-stand-in) binaries:
RECOVERY_GATEWAY_BIN_DIR names their folder (default .build/debug)."""

import pathlib
import shutil
import tempfile

import pytest

import deploy_support


@pytest.fixture
def processes():
    """Processes a test starts; each is stopped (SIGTERM, then SIGKILL) at teardown."""
    started = []
    yield started
    for process in reversed(started):
        process.stop()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL cluster (scripts/postgres.sh) for the tests that run the pod's configuration."""
    cluster = deploy_support.harness.Postgres()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def open_tmp():
    """A temp dir an unprivileged user can traverse (pytest's tmp_path is private to root)."""
    path = pathlib.Path(tempfile.mkdtemp(prefix="rg-deploy-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


FIGURES = {}


@pytest.fixture(scope="session")
def image_figures():
    """Figures the image tests measure (size, start-up, RSS), printed at the end of the run."""
    return FIGURES


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("recovery-gateway image (podman)")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
