"""Self-check of kratos_courier.py and the fixtures, no gateway needed: every ctx document evaluates
through both bodies with the real jsonnet evaluator, and the client treats answers as Kratos does."""

import http.server
import json
import threading

import pytest

import kratos_courier

TEMPLATE_TYPES = {
    "recovery_valid": {"to", "recovery_url", "identity", "request_url", "transient_payload", "expires_in_minutes"},
    "recovery_code_valid": {
        "to",
        "recovery_code",
        "identity",
        "request_url",
        "transient_payload",
        "expires_in_minutes",
    },
    "verification_valid": {
        "to",
        "verification_url",
        "identity",
        "request_url",
        "transient_payload",
        "expires_in_minutes",
    },
    "verification_code_valid": {
        "to",
        "verification_url",
        "verification_code",
        "identity",
        "request_url",
        "transient_payload",
        "expires_in_minutes",
    },
    "login_code_valid": {"to", "login_code", "identity", "request_url", "transient_payload", "expires_in_minutes"},
    "registration_code_valid": {
        "to",
        "traits",
        "registration_code",
        "request_url",
        "transient_payload",
        "expires_in_minutes",
    },
    "recovery_invalid": {"to", "request_url", "transient_payload"},
    "recovery_code_invalid": {"to", "request_url", "transient_payload"},
    "verification_invalid": {"to", "request_url", "transient_payload"},
    "verification_code_invalid": {"to", "request_url", "transient_payload"},
}
CODE_TYPES = {"recovery_code_valid", "login_code_valid", "registration_code_valid"}
FLAT_KEYS = {
    "recipient",
    "template_type",
    "to",
    "recovery_code",
    "recovery_url",
    "verification_url",
    "verification_code",
    "subject",
    "body",
}


def test_v26_2_has_every_template_type_with_kratos_keys():
    documents = kratos_courier.ctx_documents("v26.2")
    assert set(documents) == set(TEMPLATE_TYPES)
    for template_type, ctx in documents.items():
        assert ctx["template_type"] == template_type
        assert ctx["message_type"] == "email"
        assert set(ctx["template_data"]) == TEMPLATE_TYPES[template_type], template_type
        # v26.2 fills request_headers for the code types only (the others get `{}`).
        assert bool(ctx["request_headers"]) == (template_type in CODE_TYPES), template_type


def test_v25_4_has_no_request_headers():
    documents = kratos_courier.ctx_documents("v25.4")
    assert documents
    for template_type, ctx in documents.items():
        assert "request_headers" not in ctx
        assert set(ctx["template_data"]) == TEMPLATE_TYPES[template_type]


@pytest.mark.parametrize("version", ["v26.2", "v25.4"])
def test_passthrough_body_is_the_ctx_document(version):
    for ctx in kratos_courier.ctx_documents(version).values():
        body = kratos_courier.evaluate_body(ctx, kratos_courier.PASSTHROUGH_BODY)
        assert json.loads(body) == ctx


@pytest.mark.parametrize("version", ["v26.2", "v25.4"])
def test_default_body_is_the_flat_document(version):
    for template_type, ctx in kratos_courier.ctx_documents(version).items():
        flat = json.loads(kratos_courier.evaluate_body(ctx, kratos_courier.DEFAULT_BODY))
        assert set(flat) == FLAT_KEYS
        assert flat["recipient"] == ctx["recipient"]
        assert flat["template_type"] == template_type
        assert (flat["subject"], flat["body"]) == (ctx["subject"], ctx["body"])
        data = ctx["template_data"]
        for key in FLAT_KEYS - {"recipient", "template_type", "subject", "body"}:
            assert flat[key] == data.get(key), (template_type, key)


def test_default_body_drops_the_login_and_registration_code():
    # Kratos's default body has no member for these codes: only the body Kratos rendered carries them.
    for template_type, code_key in [
        ("login_code_valid", "login_code"),
        ("registration_code_valid", "registration_code"),
    ]:
        ctx = kratos_courier.ctx_documents("v26.2")[template_type]
        flat = json.loads(kratos_courier.evaluate_body(ctx, kratos_courier.DEFAULT_BODY))
        assert ctx["template_data"][code_key] not in json.dumps({k: v for k, v in flat.items() if k != "body"})
        assert ctx["template_data"][code_key] in flat["body"]


def test_v1_0_document_is_pascal_case():
    ctx = kratos_courier.ctx_documents("v1.0")["recovery_valid"]
    assert {"Recipient", "TemplateType", "TemplateData"} <= set(ctx)
    assert "message_type" not in ctx and "template_type" not in ctx


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Answers each POST with the next status of `statuses` and records what it got."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.received.append((dict(self.headers), self.rfile.read(length)))
        self.server.answered.wait(self.server.delay)
        status = self.server.statuses.pop(0)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received, server.statuses, server.delay = [], [], 0
    server.answered = threading.Event()  # set on teardown: a delayed answer ends at once
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.answered.set()
    server.shutdown()
    server.server_close()


def test_client_posts_like_kratos_and_retries_non_2xx(receiver):
    receiver.statuses = [503, 429, 202]
    url = f"http://127.0.0.1:{receiver.server_address[1]}/v1/courier/kratos"
    client = kratos_courier.KratosCourierClient(url, "Bearer rg_test_key", body=kratos_courier.DEFAULT_BODY)
    ctx = kratos_courier.ctx_documents("v26.2")["recovery_code_valid"]
    attempts = client.deliver(ctx, poll_interval=0)
    assert [attempt.status for attempt in attempts] == [503, 429, 202]
    assert attempts[-1].sent and not attempts[0].sent
    headers, body = receiver.received[0]
    assert headers["Authorization"] == "Bearer rg_test_key"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["recovery_code"] == ctx["template_data"]["recovery_code"]


def test_client_abandons_after_its_retries(receiver):
    receiver.statuses = [400] * 3
    url = f"http://127.0.0.1:{receiver.server_address[1]}/v1/courier/kratos"
    attempts = kratos_courier.KratosCourierClient(url, "Bearer k").deliver(
        kratos_courier.ctx_documents("v26.2")["recovery_valid"], retries=2, poll_interval=0
    )
    assert [attempt.status for attempt in attempts] == [400, 400, 400]
    assert not attempts[-1].sent


def test_an_answer_after_the_timeout_is_not_sent(receiver):
    # Kratos gives up after its timeout (10 s in v26.2) and retries on the next poll; here 0.2 s
    # against an answer that would come after 30 s.
    receiver.statuses, receiver.delay = [200], 30
    url = f"http://127.0.0.1:{receiver.server_address[1]}/v1/courier/kratos"
    client = kratos_courier.KratosCourierClient(url, "Bearer k", timeout=0.2)
    attempt = client.dispatch(kratos_courier.ctx_documents("v26.2")["recovery_valid"])
    assert attempt.status is None and not attempt.sent
    assert "timed out" in attempt.error
    assert kratos_courier.TIMEOUT_SECONDS == 10.0


def test_client_counts_no_answer_as_not_sent():
    # A port nothing listens on (bound, never accepted): connection refused.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    attempt = kratos_courier.KratosCourierClient(f"http://127.0.0.1:{port}/", "Bearer k").dispatch(
        kratos_courier.ctx_documents("v26.2")["recovery_valid"]
    )
    assert attempt.status is None and not attempt.sent and attempt.error


def test_committed_default_body_documents_are_the_jsonnet_output():
    # The Swift unit tests (CourierInboxTests) read these instead of running jsonnet.
    committed = sorted((kratos_courier.FIXTURES / "default-body-v26.2").glob("*.json"))
    assert [path.stem for path in committed] == sorted(TEMPLATE_TYPES)
    for path in committed:
        ctx = kratos_courier.ctx_documents("v26.2")[path.stem]
        assert path.read_text() == kratos_courier.evaluate_body(ctx, kratos_courier.DEFAULT_BODY)
