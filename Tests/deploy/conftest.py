"""The deploy tests need the real recovery-gateway (and, for a delivery, kratos-stand-in) binaries:
RECOVERY_GATEWAY_BIN_DIR names their folder (default .build/debug)."""

import pytest

import deploy_support


@pytest.fixture
def processes():
    """Processes a test starts; each is stopped (SIGTERM, then SIGKILL) at teardown."""
    started = []
    yield started
    for process in reversed(started):
        process.stop()
