"""Starts the real kratos-stand-in binary for each test and validates answers against Kratos's OpenAPI."""

import json
import os
import pathlib
import re
import subprocess

import ory_kratos_client
import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO = pathlib.Path(__file__).resolve().parents[2]
STAND_IN = pathlib.Path(os.environ.get("KRATOS_STAND_IN", REPO / ".build" / "debug" / "kratos-stand-in"))
# Files copied from Ory Kratos, with their provenance in its README.md.
KRATOS_FIXTURES = REPO / "Tests" / "Fixtures" / "kratos"
SPEC_URI = "urn:kratos-openapi"


class StandIn:
    """A running kratos-stand-in process on a free loopback port."""

    def __init__(self, *args):
        if not STAND_IN.exists():
            raise RuntimeError(f"{STAND_IN} does not exist: run `swift build` or set KRATOS_STAND_IN")
        self.process = subprocess.Popen(
            [str(STAND_IN), "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"stand-in did not start: {line!r} {self.process.stderr.read()!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def api(self, token=None):
        # The SDK sends the project API key through its `oryAccessToken` api-key setting.
        configuration = ory_kratos_client.Configuration(
            host=self.url,
            api_key={"oryAccessToken": token} if token else None,
            api_key_prefix={"oryAccessToken": "Bearer"} if token else None,
        )
        return ory_kratos_client.IdentityApi(ory_kratos_client.ApiClient(configuration))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def stand_in():
    server = StandIn()
    yield server
    server.stop()


@pytest.fixture
def start_stand_in():
    started = []

    def start(*args):
        server = StandIn(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def spec():
    return json.loads((KRATOS_FIXTURES / "kratos-openapi.json").read_text())


@pytest.fixture(scope="session")
def validate(spec):
    """validate(schema_name_or_schema, instance): raises if the instance does not match Kratos's OpenAPI."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))

    def check(schema, instance):
        if isinstance(schema, str):
            schema = {"$ref": f"{SPEC_URI}#/components/schemas/{schema}"}
        OAS30Validator(schema, registry=registry, format_checker=OAS30Validator.FORMAT_CHECKER).validate(instance)

    return check


@pytest.fixture(scope="session")
def fixture_json():
    def load(name):
        return json.loads((KRATOS_FIXTURES / "fixtures" / name).read_text())

    return load
