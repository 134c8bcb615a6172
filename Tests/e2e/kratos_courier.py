"""Kratos's HTTP courier, as far as a receiver can see it: the request body is the jsonnet
`courier.http.request_config.body` evaluated over Kratos's `ctx` document (`httpDataModel` in
courier/http_channel.go), with the real jsonnet evaluator (the `jsonnet` package from PyPI), and it is
posted as Kratos v26.2 posts it: JSON, the api_key auth header, a 10 s timeout, any 2xx is sent,
anything else (or no answer) is retried on a later poll until the message is abandoned.
Fixtures and provenance: Tests/Fixtures/kratos-courier/README.md."""

import dataclasses
import json
import pathlib
import time
import urllib.error
import urllib.request

import _jsonnet

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "Fixtures" / "kratos-courier"
# `function(ctx) ctx`: the whole document, the configuration docs/kratos.md recommends.
PASSTHROUGH_BODY = FIXTURES / "passthrough-body.jsonnet"
# The flat document of Kratos's shipped default courier.http.request_config.body (our own jsonnet).
DEFAULT_BODY = FIXTURES / "flat-body.jsonnet"
BODIES = {"passthrough": PASSTHROUGH_BODY, "kratos-default": DEFAULT_BODY}

# Kratos v26.2 (courier/http_channel.go): ResilientClientWithConnectionTimeout(10s), no retries inside
# one dispatch; the courier's next poll tries again (courier.message_retries, 5 by default).
TIMEOUT_SECONDS = 10.0
MESSAGE_RETRIES = 5


def ctx_documents(version="v26.2"):
    """The fixture ctx documents of one Kratos version: {template_type: document}."""
    return {path.stem: json.loads(path.read_text()) for path in sorted((FIXTURES / f"ctx-{version}").glob("*.json"))}


def evaluate_body(ctx, body=PASSTHROUGH_BODY):
    """The request body Kratos sends for `ctx`: the jsonnet at `body` called with `ctx` as the top-level
    argument code, as request/builder.go's addJSONBody does (vm.TLACode("ctx", json))."""
    # Go's encoder with SetEscapeHTML(false): `<`, `>` and `&` stay as they are.
    ctx_json = json.dumps(ctx, ensure_ascii=False)
    return _jsonnet.evaluate_snippet(str(body), pathlib.Path(body).read_text(), tla_codes={"ctx": ctx_json})


@dataclasses.dataclass
class Attempt:
    """One dispatch: the HTTP status (None when there was no answer) and the error, if any."""

    status: int | None
    error: str | None = None

    @property
    def sent(self):
        return self.status is not None and 200 <= self.status < 300


class KratosCourierClient:
    """Posts courier bodies to `url` as Kratos's HTTP channel does, with
    `auth: {type: api_key, config: {name, value, in: header}}`."""

    def __init__(self, url, api_key, header_name="Authorization", body=PASSTHROUGH_BODY, timeout=TIMEOUT_SECONDS):
        self.url = url
        self.api_key = api_key
        self.header_name = header_name
        self.body = body
        self.timeout = timeout

    def dispatch(self, ctx):
        """One attempt (Kratos's `httpChannel.Dispatch`): evaluate, POST, classify."""
        payload = evaluate_body(ctx, self.body).encode()
        request = urllib.request.Request(self.url, data=payload, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header(self.header_name, self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(1024)  # Kratos reads at most 1 KiB of the answer
                return Attempt(response.status)
        except urllib.error.HTTPError as error:
            error.read(1024)
            return Attempt(error.code, f"upstream server replied with status code {error.code}")
        except OSError as error:  # refused, reset, timed out
            return Attempt(None, str(error))

    def deliver(self, ctx, retries=MESSAGE_RETRIES, poll_interval=1.0):
        """The courier's view of one message: dispatch, and on anything but 2xx try again on the next
        poll, at most `retries` more times; returns every attempt (the last one decides)."""
        attempts = [self.dispatch(ctx)]
        while not attempts[-1].sent and len(attempts) <= retries:
            time.sleep(poll_interval)
            attempts.append(self.dispatch(ctx))
        return attempts
