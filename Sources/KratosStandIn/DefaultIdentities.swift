import Foundation
public import JSONValue

/// The identities a stand-in starts with when no `--identities` file is given: the Kratos fixture
/// (one email address), a multi-address identity, a phone-only identity (an `sms` recovery address)
/// and one without `recovery_addresses`. Kept equal to `config/stand-in-identities.json` by a test.
public enum DefaultIdentities {
    /// The JSON text, byte for byte the same as `config/stand-in-identities.json`.
    public static let json = #"""
        [
          {
            "id": "a251ebc2-880c-4f76-a8f3-38e6940eab0e",
            "credentials": {
              "password": {
                "type": "password",
                "identifiers": [
                  "foo1@ory.sh",
                  "foobar@ory.sh"
                ],
                "config": {
                  "hashed_password": "$argon2id$v=19$m=131072,t=2,p=1$lQFPaKxXqPL56/mU7vRi4w$6aldHyBnURt8sP8+xu41Ng"
                },
                "version": 1,
                "created_at": "2013-10-07T08:23:19Z",
                "updated_at": "2013-10-07T08:23:19Z"
              }
            },
            "schema_id": "default",
            "schema_url": "https://www.ory.sh/schemas/ZGVmYXVsdA",
            "state": "active",
            "traits": {
              "email": "foobar@ory.sh"
            },
            "verifiable_addresses": [
              {
                "id": "b2d59320-8564-4400-a39f-a22a497a23f1",
                "value": "foobar+without-code@ory.sh",
                "verified": false,
                "via": "email",
                "status": "pending",
                "created_at": "2013-10-07T08:23:19Z",
                "updated_at": "2013-10-07T08:23:19Z"
              },
              {
                "id": "c2427b6d-312b-46d9-9285-536db7ae11fd",
                "value": "foobar@ory.sh",
                "verified": false,
                "via": "email",
                "status": "pending",
                "created_at": "2013-10-07T08:23:19Z",
                "updated_at": "2013-10-07T08:23:19Z"
              },
              {
                "id": "d4718a67-aec2-418d-8173-6ebc7bde3b86",
                "value": "foobar+11345642c6c0@ory.sh",
                "verified": false,
                "via": "email",
                "status": "pending",
                "created_at": "2013-10-07T08:23:19Z",
                "updated_at": "2013-10-07T08:23:19Z"
              }
            ],
            "recovery_addresses": [
              {
                "id": "b8293f1c-010f-45d9-b809-f3fc5365ba80",
                "value": "foobar@ory.sh",
                "via": "email",
                "created_at": "2013-10-07T08:23:19Z",
                "updated_at": "2013-10-07T08:23:19Z"
              }
            ],
            "metadata_public": null,
            "metadata_admin": null,
            "created_at": "2013-10-07T08:23:19Z",
            "updated_at": "2013-10-07T08:23:19Z",
            "organization_id": null
          },
          {
            "id": "5b4c9a8e-3f1d-4c2a-9e7b-1d2f3a4b5c6d",
            "credentials": {
              "password": {
                "type": "password",
                "identifiers": [
                  "ada@example.com",
                  "ada.lovelace@example.org"
                ],
                "version": 0,
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              }
            },
            "schema_id": "multiple-emails",
            "schema_url": "http://127.0.0.1:4433/schemas/bXVsdGlwbGUtZW1haWxz",
            "state": "active",
            "state_changed_at": "2024-05-14T09:30:00Z",
            "traits": {
              "emails": [
                "ada@example.com",
                "ada.lovelace@example.org"
              ],
              "name": {
                "first": "Ada",
                "last": "Lovelace"
              }
            },
            "verifiable_addresses": [
              {
                "id": "6c5d0b9f-4a2e-4d3b-8f8c-2e3a4b5c6d7e",
                "value": "ada@example.com",
                "verified": true,
                "via": "email",
                "status": "completed",
                "verified_at": "2024-05-14T09:30:00Z",
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              },
              {
                "id": "7d6e1c0a-5b3f-4e4c-9a9d-3f4b5c6d7e8f",
                "value": "ada.lovelace@example.org",
                "verified": false,
                "via": "email",
                "status": "pending",
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              }
            ],
            "recovery_addresses": [
              {
                "id": "8e7f2d1b-6c4a-4f5d-8bae-4a5c6d7e8f90",
                "value": "ada@example.com",
                "via": "email",
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              },
              {
                "id": "9f803e2c-7d5b-4a6e-9cbf-5b6d7e8f9001",
                "value": "ada.lovelace@example.org",
                "via": "email",
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              }
            ],
            "metadata_public": null,
            "metadata_admin": null,
            "created_at": "2024-05-14T09:30:00Z",
            "updated_at": "2024-05-14T09:30:00Z",
            "organization_id": null
          },
          {
            "id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            "credentials": {
              "password": {
                "type": "password",
                "identifiers": [
                  "+41791234567"
                ],
                "version": 0,
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              }
            },
            "schema_id": "phone",
            "schema_url": "http://127.0.0.1:4433/schemas/cGhvbmU",
            "state": "active",
            "state_changed_at": "2024-05-14T09:30:00Z",
            "traits": {
              "phone": "+41791234567"
            },
            "verifiable_addresses": [
              {
                "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                "value": "+41791234567",
                "verified": false,
                "via": "sms",
                "status": "pending",
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              }
            ],
            "recovery_addresses": [
              {
                "id": "2c3d4e5f-6a7b-4c8d-9eaf-1a2b3c4d5e6f",
                "value": "+41791234567",
                "via": "sms",
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              }
            ],
            "metadata_public": null,
            "metadata_admin": null,
            "created_at": "2024-05-14T09:30:00Z",
            "updated_at": "2024-05-14T09:30:00Z",
            "organization_id": null
          },
          {
            "id": "3d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70",
            "credentials": {
              "password": {
                "type": "password",
                "identifiers": [
                  "grace"
                ],
                "version": 0,
                "created_at": "2024-05-14T09:30:00Z",
                "updated_at": "2024-05-14T09:30:00Z"
              }
            },
            "schema_id": "username",
            "schema_url": "http://127.0.0.1:4433/schemas/dXNlcm5hbWU",
            "state": "active",
            "state_changed_at": "2024-05-14T09:30:00Z",
            "traits": {
              "username": "grace"
            },
            "metadata_public": null,
            "metadata_admin": null,
            "created_at": "2024-05-14T09:30:00Z",
            "updated_at": "2024-05-14T09:30:00Z",
            "organization_id": null
          }
        ]

        """#

    /// The identities, parsed.
    public static let identities: [JSONValue] = {
        // The text is a literal checked by a test, so a failure here is a build defect.
        // swift-format-ignore: NeverUseForceTry
        try! JSONDecoder().decode([JSONValue].self, from: Data(json.utf8))
    }()
}
