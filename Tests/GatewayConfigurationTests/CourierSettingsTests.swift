import CourierInbox
import Foundation
import GatewayConfiguration
import Testing

/// `courier`: the receiver of Kratos's HTTP courier, from the file and the environment, checked key by key.
@Suite struct CourierSettingsTests {
    @Test func defaultsAreTheDocumentedOnes() throws {
        let courier = try ConfigurationLoader.load(yaml: "", source: "empty").courier
        #expect(courier.payloadKeyFile == "keys/courier-payload.key")
        #expect(courier.localePolicy == (try CourierLocalePolicy(paths: CourierLocalePolicy.defaultPaths)))
        #expect(courier.invalidDedupWindow == .seconds(900))
        #expect(courier.dedupRetention == .seconds(86_400))
        #expect(courier.maxAge == .seconds(3_600))
        #expect(courier.maxBodyBytes == 262_144)
    }

    @Test func everyKeyComesFromTheFileOrTheEnvironment() throws {
        let yaml = """
            courier:
              payload_key_file: /srv/keys/courier.key
              locale_paths: [identity.traits.lang]
              invalid_dedup_window: 5m
            """
        let configuration = try ConfigurationLoader.load(
            yaml: yaml,
            source: "test.yaml",
            environment: [
                "RECOVERY_GATEWAY_COURIER_LOCALE_PATHS": "identity.traits.language, transient_payload.lang",
                "RECOVERY_GATEWAY_COURIER_DEDUP_RETENTION": "48h",
                "RECOVERY_GATEWAY_COURIER_MAX_AGE": "30m",
                "RECOVERY_GATEWAY_COURIER_MAX_BODY_BYTES": "1048576",
            ]
        )
        let courier = configuration.courier
        #expect(courier.payloadKeyFile == "/srv/keys/courier.key")
        #expect(courier.localePolicy.paths == [["identity", "traits", "language"], ["transient_payload", "lang"]])
        #expect(courier.invalidDedupWindow == .seconds(300))
        #expect(courier.dedupRetention == .seconds(172_800))
        #expect(courier.maxAge == .seconds(1_800))
        #expect(courier.maxBodyBytes == 1_048_576)
        #expect(
            configuration.description.contains("  locale_paths: [identity.traits.language, transient_payload.lang]")
        )
    }

    @Test(arguments: [
        ("courier: { locale_paths: [identity.traits.locale, \"identity..locale\"] }", "courier.locale_paths[1]"),
        ("courier: { invalid_dedup_window: 0s }", "courier.invalid_dedup_window"),
        ("courier: { invalid_dedup_window: 2h, dedup_retention: 3h }", "courier.dedup_retention"),
        ("courier: { max_age: 1m }", "courier.max_age"),
        ("courier: { max_body_bytes: 100 }", "courier.max_body_bytes"),
        ("courier: { payload_key: x }", "courier.payload_key"),
    ])
    func badValuesNameTheirKey(yaml: String, key: String) {
        #expect(loadError(yaml)?.key == key, "\(yaml)")
    }

    @Test func aPayloadKeyFileOthersMayReadIsRefusedNamingTheKey() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("courier.key", bytes: Array(repeating: 7, count: 32))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let error = loadError("courier: { payload_key_file: \"\(file)\" }")
        #expect(error?.key == "courier.payload_key_file")

        // Group write is as loose; group read is how Kubernetes mounts a Secret for the pod's fsGroup.
        try FileManager.default.setAttributes([.posixPermissions: 0o460], ofItemAtPath: file)
        #expect(loadError("courier: { payload_key_file: \"\(file)\" }")?.key == "courier.payload_key_file")
        for mode in [0o600, 0o400, 0o440] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
            let configuration = try ConfigurationLoader.load(
                yaml: "courier: { payload_key_file: \"\(file)\" }",
                source: "t"
            )
            #expect(throws: Never.self) { try configuration.courier.resolvePayloadKey(createIfMissing: false) }
        }

        // A missing file is created, 0600, on demand.
        let fresh = "\(directory.path)/new/courier.key"
        let later = try ConfigurationLoader.load(yaml: "courier: { payload_key_file: \"\(fresh)\" }", source: "t")
        #expect(throws: ConfigurationError.self) { try later.courier.resolvePayloadKey(createIfMissing: false) }
        _ = try later.courier.resolvePayloadKey(createIfMissing: true)
        let mode = try FileManager.default.attributesOfItem(atPath: fresh)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func linksMayPointOnlyToKratosAndACourierKeyNeedsAnOrigin() throws {
        let courierKey = """
            api_keys:
              - { name: kratos, sha256: "\(String(repeating: "a", count: 64))", scopes: [courier:kratos] }
            """
        // Neither set: no courier key may be configured.
        #expect(loadError(courierKey)?.key == "courier.allowed_link_origins")
        #expect(
            loadError("courier: { allowed_link_origins: [] }\n" + courierKey)?.key == "courier.allowed_link_origins"
        )
        #expect(try ConfigurationLoader.load(yaml: "", source: "t").courier.linkPolicy.origins.isEmpty)
        // The default: the origin of kratos.public_url.
        let fromKratos = try ConfigurationLoader.load(
            yaml: "kratos: { public_url: \"https://Auth.example.com/kratos\" }\n" + courierKey,
            source: "t"
        )
        #expect(fromKratos.courier.linkPolicy.origins.map(\.description) == ["https://auth.example.com"])
        let listed = try ConfigurationLoader.load(
            yaml: "courier: { allowed_link_origins: [\"https://a.example\", \"http://b.example:8080/\"] }\n"
                + courierKey,
            source: "t"
        )
        #expect(
            Set(listed.courier.linkPolicy.origins.map(\.description)) == ["https://a.example", "http://b.example:8080"]
        )
        #expect(
            loadError("courier: { allowed_link_origins: [\"https://a.example/path\"] }")?.key
                == "courier.allowed_link_origins[0]"
        )
        let limits = try ConfigurationLoader.load(
            yaml: "courier: { recipient_limit: 3, recipient_window: 10m }",
            source: "t"
        )
        #expect(limits.courier.recipientLimit == 3 && limits.courier.recipientWindow == .seconds(600))
        #expect(try ConfigurationLoader.load(yaml: "", source: "t").courier.recipientLimit == 10)
        #expect(loadError("courier: { recipient_limit: 0 }")?.key == "courier.recipient_limit")
    }
}
