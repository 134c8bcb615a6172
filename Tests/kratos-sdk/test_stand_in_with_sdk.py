"""The stand-in, checked with Ory's official Python SDK (ory-kratos-client 25.4.0) and Kratos's OpenAPI."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from ory_kratos_client import MetadataApi
from ory_kratos_client.exceptions import ApiException
from ory_kratos_client.models import (
    CreateIdentityBody,
    CreateRecoveryCodeForIdentityBody,
    CreateRecoveryLinkForIdentityBody,
)

FIXTURE_ID = "a251ebc2-880c-4f76-a8f3-38e6940eab0e"
UNKNOWN_ID = "11111111-2222-4333-8444-555555555555"


def raw(response):
    return json.loads(response.raw_data)


def test_get_identity(stand_in, validate, fixture_json):
    response = stand_in.api().get_identity_with_http_info(FIXTURE_ID)
    assert response.status_code == 200
    assert response.data.id == FIXTURE_ID
    assert [a.value for a in response.data.recovery_addresses] == ["foobar@ory.sh"]
    body = raw(response)
    validate("identity", body)
    expected = fixture_json("identity-example.json")
    del expected["credentials"]["password"]["config"]
    assert body == expected


def test_list_identities_by_identifier(stand_in, validate):
    response = stand_in.api().list_identities_with_http_info(credentials_identifier="foo1@ory.sh")
    assert response.status_code == 200
    assert [identity.id for identity in response.data] == [FIXTURE_ID]
    validate({"type": "array", "items": {"$ref": "urn:kratos-openapi#/components/schemas/identity"}}, raw(response))
    assert 'rel="first"' in response.headers["Link"]
    assert stand_in.api().list_identities(credentials_identifier="nobody@example.com") == []


def test_every_default_identity_deserializes(stand_in, validate):
    identities = stand_in.api().list_identities_with_http_info()
    assert len(identities.data) == 4
    for identity in raw(identities):
        validate("identity", identity)


def test_create_and_delete_identity(stand_in, validate):
    api = stand_in.api()
    body = CreateIdentityBody(schema_id="default", traits={"email": "sdk@example.com"})
    created = api.create_identity_with_http_info(create_identity_body=body)
    assert created.status_code == 201
    validate("identity", raw(created))
    assert [a.value for a in created.data.recovery_addresses] == ["sdk@example.com"]
    assert api.get_identity(created.data.id).traits == {"email": "sdk@example.com"}
    deleted = api.delete_identity_with_http_info(created.data.id)
    assert deleted.status_code == 204
    with pytest.raises(ApiException) as error:
        api.get_identity(created.data.id)
    assert error.value.status == 404


def test_create_recovery_link(stand_in, validate):
    before = datetime.now(UTC)
    # SDK 25.4.0 only lets one number+unit through for links (pattern ^[0-9]+(ns|us|ms|s|m|h)$).
    response = stand_in.api().create_recovery_link_for_identity_with_http_info(
        create_recovery_link_for_identity_body=CreateRecoveryLinkForIdentityBody(
            identity_id=FIXTURE_ID, expires_in="90s"
        )
    )
    assert response.status_code == 200
    validate("recoveryLinkForIdentity", raw(response))
    assert re.fullmatch(
        r"http://127\.0\.0\.1:4433/self-service/recovery\?flow=[0-9a-f-]{36}&token=[A-Za-z0-9]{32}",
        response.data.recovery_link,
    )
    assert abs((response.data.expires_at - before) - timedelta(seconds=90)) < timedelta(seconds=5)


def test_create_recovery_code(stand_in, validate):
    response = stand_in.api().create_recovery_code_for_identity_with_http_info(
        create_recovery_code_for_identity_body=CreateRecoveryCodeForIdentityBody(
            identity_id=FIXTURE_ID, expires_in="1h"
        )
    )
    assert response.status_code == 201
    validate("recoveryCodeForIdentity", raw(response))
    assert re.fullmatch(r"[0-9]{6}", response.data.recovery_code)
    assert response.data.recovery_link.startswith("http://127.0.0.1:4433/ui/recovery?flow=")


def test_relative_code_links(start_stand_in):
    server = start_stand_in("--relative-code-links")
    code = server.api().create_recovery_code_for_identity(
        create_recovery_code_for_identity_body=CreateRecoveryCodeForIdentityBody(identity_id=FIXTURE_ID)
    )
    assert code.recovery_link.startswith("/ui/recovery?flow=")


def error_of(call):
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def test_unknown_identity_on_each_endpoint(stand_in, validate, fixture_json):
    api = stand_in.api()
    status, body = error_of(lambda: api.get_identity(UNKNOWN_ID))
    assert status == 404
    assert body == {"error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}}
    validate("errorGeneric", body)

    status, body = error_of(
        lambda: api.create_recovery_link_for_identity(
            create_recovery_link_for_identity_body=CreateRecoveryLinkForIdentityBody(identity_id=UNKNOWN_ID)
        )
    )
    assert status == 400
    assert body["error"]["reason"] == "The requested identity id does not exist."
    validate("errorGeneric", body)

    status, body = error_of(
        lambda: api.create_recovery_code_for_identity(
            create_recovery_code_for_identity_body=CreateRecoveryCodeForIdentityBody(identity_id=UNKNOWN_ID)
        )
    )
    assert status == 404
    assert body == fixture_json("error-recovery-code-unknown-identity-404.json")
    validate("errorGeneric", body)


@pytest.mark.parametrize(
    "expires_in,fixture",
    [
        ("not-a-valid-value", "error-recovery-code-malformed-expires_in-400.json"),
        ("-1h", "error-recovery-code-negative-expires_in-400.json"),
    ],
)
def test_invalid_expires_in(stand_in, validate, fixture_json, expires_in, fixture):
    # The SDK's models refuse these values themselves; model_construct skips that so the server sees them.
    api = stand_in.api()
    status, body = error_of(
        lambda: api.create_recovery_code_for_identity(
            create_recovery_code_for_identity_body=CreateRecoveryCodeForIdentityBody.model_construct(
                identity_id=FIXTURE_ID, expires_in=expires_in
            )
        )
    )
    assert status == 400
    assert body == fixture_json(fixture)
    validate("errorGeneric", body)
    status, body = error_of(
        lambda: api.create_recovery_link_for_identity(
            create_recovery_link_for_identity_body=CreateRecoveryLinkForIdentityBody.model_construct(
                identity_id=FIXTURE_ID, expires_in=expires_in
            )
        )
    )
    assert status == 400
    validate("errorGeneric", body)
    assert expires_in in body["error"]["reason"]


def test_bearer_token_required_when_configured(start_stand_in, tmp_path, validate):
    token_file = tmp_path / "token"
    token_file.write_text("ory_pat_sdk_test\n")
    server = start_stand_in("--token-file", str(token_file))
    status, body = error_of(lambda: server.api().get_identity(FIXTURE_ID))
    assert status == 401
    validate("errorGeneric", body)
    status, _ = error_of(lambda: server.api(token="ory_pat_wrong").get_identity(FIXTURE_ID))
    assert status == 401
    assert server.api(token="ory_pat_sdk_test").get_identity(FIXTURE_ID).id == FIXTURE_ID


def test_health(stand_in):
    from ory_kratos_client import ApiClient, Configuration

    metadata = MetadataApi(ApiClient(Configuration(host=stand_in.url)))
    assert metadata.is_alive().status == "ok"
    assert metadata.is_ready().status == "ok"
