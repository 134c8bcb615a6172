"""Fixtures: each test gets its own temp dir, stand-in, SMTP server and gateway, stopped on teardown."""

import os

import pytest

from harness import Gateway, Postgres, SMTPServer, StandIn, config_yaml, free_port


class Stack:
    """The processes of one test. `start_gateway` may be called again (same config) after a stop or kill."""

    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.stand_in = None
        self.smtp = None
        self.gateway = None
        self.gateways = {}
        self.extra = []

    def start_stand_in(self, **kwargs):
        self.stand_in = StandIn(self.workdir, **kwargs)
        return self.stand_in

    def start_smtp(self, *options, port=0, name="smtp"):
        server = SMTPServer(self.workdir, *options, port=port, name=name)
        self.extra.append(server)
        self.smtp = server
        return server

    def start_gateway(self, smtp_url=None, overrides=None, templates_dir=None, ready=True, name="gateway"):
        text = config_yaml(
            self.workdir,
            http_port=free_port(),
            kratos_url=self.stand_in.url,
            smtp_url=smtp_url or f"smtp://127.0.0.1:{self.smtp.port}/?disable_starttls=true",
            templates_dir=templates_dir,
            overrides=overrides,
        )
        self.gateway = self.gateways[name] = Gateway(self.workdir, text, name=name)
        return self.gateway.start(ready=ready)

    def stop(self):
        for gateway in self.gateways.values():
            gateway.stop()
        for server in self.extra:
            server.stop()
        if self.stand_in is not None:
            self.stand_in.stop()


@pytest.fixture
def stack(tmp_path):
    """Stand-in and SMTP server running; the test starts the gateway (with its own overrides)."""
    s = Stack(tmp_path)
    try:
        s.start_stand_in()
        s.start_smtp()
        yield s
    finally:
        s.stop()


@pytest.fixture
def bare(tmp_path):
    """Nothing running yet: for tests that start the stand-in or SMTP server with special options."""
    s = Stack(tmp_path)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL cluster for the session's tests (each takes a database of its own)."""
    cluster = Postgres()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def gateway(stack):
    return stack.start_gateway()


def pytest_configure(config):
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
