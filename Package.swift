// swift-tools-version:6.1
// recovery-gateway: sends Ory Kratos account-recovery emails. ARCHITECTURE.md describes the modules
// below and the direction of their dependencies: the domain (`Domain`) depends on no configuration,
// HTTP or database module; the wire format (`GatewayAPI`) on none of them either; the HTTP API
// (`Server`) on the domain and the wire format; the wiring (`Wiring`) on everything; the command
// line on the wiring and the wire format, not on the HTTP API. The targets are listed in that order,
// each after what it depends on (scripts/order-package.py keeps it), then the tests; how release
// builds are linked, and why, is `ReleaseLink` at the end.

import PackageDescription

#if canImport(Glibc)
import Glibc
#endif

/// `scripts/fuzz.sh` builds the parsers' libFuzzer targets (`fuzz/`) with `RECOVERY_GATEWAY_FUZZ=1`, in
/// a scratch path of its own: the gateway's modules are then compiled with libFuzzer's coverage and
/// AddressSanitizer (the packages they use are not: their code is not what is fuzzed).
let fuzzing = Context.environment["RECOVERY_GATEWAY_FUZZ"] == "1"

/// The language settings every Swift target shares: Swift 6 language mode (strict concurrency is its
/// default) plus the upcoming features the server-side Swift packages we follow enable.
let languageSettings: [SwiftSetting] =
    [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
    ] + (fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : [])

/// The settings of the gateway's targets: the language settings, and in a release build on Linux
/// the static runtime (``ReleaseLink``). The tests and `TestSupport` take `languageSettings` alone: the
/// Testing module is not among the static runtime's, and `swift build -c release` compiles `TestSupport` too.
let swiftSettings: [SwiftSetting] = languageSettings + ReleaseLink.swiftSettings

let package = Package(
    name: "recovery-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "recovery-gateway", targets: ["recovery-gateway"]),
        .executable(name: "kratos-stand-in", targets: ["kratos-stand-in"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Up to 4.x: vapor/jwt-kit (the console's ID tokens) needs 4.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
    ],
    targets: [
        // MARK: libcurl
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // MARK: glibc's malloc tuning (mallopt), which the Glibc module leaves out
        .systemLibrary(name: "CMalloc"),

        // MARK: A UUID's text, written and read without Foundation's formatter
        .target(name: "UUIDText", swiftSettings: swiftSettings),

        // MARK: A delivery's vocabulary: addresses, Message-IDs, the recovery method, Kratos's template types
        .target(name: "DeliveryVocabulary", dependencies: ["UUIDText"], swiftSettings: swiftSettings),

        // MARK: Email: building RFC 5322 messages and delivering them over SMTP
        .target(
            name: "Mail",
            dependencies: ["CCurl", "DeliveryVocabulary"],
            swiftSettings: swiftSettings
        ),

        // MARK: JSON documents as values (identity traits, transient payloads)
        .target(name: "JSONValue", swiftSettings: swiftSettings),

        // MARK: RFC 3339 times: one parser (API, CLI, Kratos) and the gateway's one way of writing them
        .target(name: "RFC3339", swiftSettings: swiftSettings),

        // MARK: Go's duration syntax (Kratos's expires_in)
        .target(name: "GoDuration", swiftSettings: swiftSettings),

        // MARK: Kratos admin API client
        .target(
            name: "Kratos",
            dependencies: [
                "GoDuration",
                "JSONValue",
                "RFC3339",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Localized email templates
        .target(
            name: "Templates",
            dependencies: [
                "DeliveryVocabulary",
                "JSONValue",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Secret keys in files of their own (created 0600 with random bytes)
        .target(name: "KeyFile", swiftSettings: swiftSettings),

        // MARK: Kratos's HTTP courier as a source of emails: its documents checked, sealed, deduplicated
        .target(
            name: "CourierInbox",
            dependencies: [
                "JSONValue", "KeyFile", "Templates",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The audit log: events, their HMAC chain and its verification, the audit key
        .target(
            name: "Audit",
            dependencies: ["KeyFile", "UUIDText", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: languageSettings
        ),

        // MARK: The durable store's contract: outbox, idempotency records, audit log
        .target(
            name: "Store",
            dependencies: ["Audit", "DeliveryVocabulary", "JSONValue", "UUIDText"],
            swiftSettings: languageSettings
        ),

        // MARK: The domain: accept a request, deliver it, retry, audit
        .target(
            name: "Domain",
            dependencies: [
                "Audit", "CourierInbox", "GoDuration", "JSONValue", "Kratos", "Mail", "RFC3339", "Store", "Templates",
                "UUIDText",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The API's wire format: JSON views, timestamps, problem codes (server and CLI alike)
        .target(
            name: "GatewayAPI",
            dependencies: ["Audit", "JSONValue", "RFC3339", "Store", "UUIDText"],
            swiftSettings: swiftSettings
        ),

        // MARK: The gateway's configuration (YAML file, environment, flags)
        .target(
            name: "GatewayConfiguration",
            dependencies: [
                "Audit",
                "CourierInbox",
                "KeyFile",
                "Domain",
                "GoDuration",
                "Mail",
                "Templates",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: languageSettings
        ),

        // MARK: The HTTP API, health, metrics
        .target(
            name: "Server",
            dependencies: [
                "Audit", "CourierInbox", "Domain", "GatewayAPI", "GatewayConfiguration", "JSONValue", "RFC3339",
                "Store", "Templates", "UUIDText",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The API document, compiled into the binary and served at GET /openapi.yaml
            // (`openapi.yaml` at the repository root is a symlink to it).
            resources: [.embedInCode("openapi.yaml")],
            swiftSettings: swiftSettings
        ),

        // MARK: OpenID Connect sign-in: discovery, the code flow with PKCE, ID tokens checked with jwt-kit
        .target(
            name: "OIDC",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The support console at /console: HTML pages, sessions and CSRF over the domain services
        .target(
            name: "Console",
            dependencies: [
                "Audit", "Domain", "GatewayAPI", "GatewayConfiguration", "JSONValue", "Kratos", "Mail", "OIDC",
                "Server", "Store", "Templates", "UUIDText",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // The pages, stylesheet and script, compiled into the binary (as openapi.yaml is).
            resources: [
                .embedInCode("Assets/head.mustache"), .embedInCode("Assets/foot.mustache"),
                .embedInCode("Assets/sign-in.mustache"), .embedInCode("Assets/users.mustache"),
                .embedInCode("Assets/identity.mustache"), .embedInCode("Assets/send.mustache"),
                .embedInCode("Assets/delivery.mustache"), .embedInCode("Assets/audit.mustache"),
                .embedInCode("Assets/error.mustache"), .embedInCode("Assets/continue.mustache"),
                .embedInCode("Assets/console.css"),
                .embedInCode("Assets/console.js"), .embedInCode("Assets/icon.svg"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The store on PostgreSQL (several replicas on one database)
        .target(
            name: "PostgresStore",
            dependencies: [
                "Audit", "Store", "UUIDText",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: languageSettings
        ),

        // MARK: The store on SQLite (one machine)
        .target(
            name: "SQLiteStore",
            dependencies: ["Audit", "Store", "UUIDText", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: languageSettings
        ),

        // MARK: The wiring: configuration -> store, clients, domain services, HTTP application; logging
        .target(
            name: "Wiring",
            dependencies: [
                "Audit", "Console", "CourierInbox", "Domain", "GatewayAPI", "GatewayConfiguration", "JSONValue",
                "Kratos", "Mail", "PostgresStore", "Server", "RFC3339", "SQLiteStore", "Store", "Templates",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The version (`VERSION` at the repository root links to it), compiled in.
            resources: [.embedInCode("VERSION")],
            swiftSettings: swiftSettings
        ),

        // MARK: The Kratos stand-in (a test double of the Kratos admin API)
        .target(
            name: "KratosStandIn",
            dependencies: [
                "GoDuration",
                "JSONValue",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The default identities, compiled in (`config/stand-in-identities.json` links to the file).
            resources: [.embedInCode("stand-in-identities.json")],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "kratos-stand-in",
            dependencies: [
                "KratosStandIn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: ReleaseLink.executable
        ),

        // MARK: The gateway's command line
        .executableTarget(
            name: "recovery-gateway",
            dependencies: [
                "Audit", "CMalloc", "Domain", "GatewayAPI", "Wiring", "GatewayConfiguration", "JSONValue",
                "Kratos", "Mail",
                "RFC3339", "Store", "Templates", "UUIDText",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: ReleaseLink.gateway
        ),

        // MARK: Benchmarks (run by benchmarks/*.sh)
        .executableTarget(
            name: "smtp-benchmark",
            dependencies: ["Mail"],
            path: "benchmarks/smtp-benchmark",
            swiftSettings: swiftSettings,
            linkerSettings: ReleaseLink.executable
        ),

        .executableTarget(
            name: "metrics-benchmark",
            dependencies: ["Domain", "Server", .product(name: "Prometheus", package: "swift-prometheus")],
            path: "benchmarks/metrics-benchmark",
            swiftSettings: swiftSettings,
            linkerSettings: ReleaseLink.executable
        ),

        // MARK: Tests
        .target(
            name: "TestSupport",
            dependencies: [
                "KratosStandIn",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            path: "Tests/TestSupport",
            exclude: ["parse_message.py"],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "UUIDTextTests",
            dependencies: ["UUIDText"],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "MailTests",
            dependencies: ["Mail", "TestSupport"],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "GoDurationTests",
            dependencies: ["GoDuration"],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "KratosTests",
            dependencies: [
                "TestSupport",
                "Kratos",
                "KratosStandIn",
                "JSONValue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "TemplatesTests",
            dependencies: ["Templates", .product(name: "Mustache", package: "swift-mustache")],
            resources: [.copy("Fixtures")],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "CourierInboxTests",
            dependencies: ["CourierInbox", "JSONValue", "KeyFile", "Templates"],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "AuditTests",
            dependencies: ["Audit"],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "StoreTests",
            dependencies: [
                "TestSupport",
                "Store", "Audit", "GatewayAPI", "JSONValue", "PostgresStore", "SQLiteStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "DomainTests",
            dependencies: [
                "Audit", "CourierInbox", "Domain", "GatewayAPI", "GatewayConfiguration", "JSONValue", "Kratos",
                "KratosStandIn",
                "Mail",
                "Server", "SQLiteStore", "Store", "Templates", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "GatewayConfigurationTests",
            dependencies: [
                "Audit",
                "CourierInbox",
                "Domain",
                "GatewayConfiguration",
                "GoDuration",
                "Mail",
                "Templates",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Console", "Server", "Domain", "GatewayAPI", "Wiring", "GatewayConfiguration", "KratosStandIn",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "OIDCTests",
            dependencies: [
                "OIDC",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "WiringTests",
            dependencies: [
                "Wiring", "Audit", "SQLiteStore", "Store", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "KratosStandInTests",
            dependencies: [
                "KratosStandIn",
                "JSONValue",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: languageSettings
        ),

        .testTarget(
            name: "RecoveryGatewayTests",
            dependencies: [
                "recovery-gateway", "Audit", "Domain", "GatewayConfiguration", "SQLiteStore", "Store", "TestSupport",
            ],
            swiftSettings: languageSettings
        ),
    ]
)

// MARK: - Release link

/// How release builds on Linux link each executable, and why; debug builds (the tests) keep the
/// toolchain's defaults. Each step was measured with benchmarks/rss.sh (idle memory, 63 MB before
/// them, 43 MB after; docs/performance/ has the figures).
enum ReleaseLink {
    /// Release builds on Linux only.
    static let condition = BuildSettingCondition.when(platforms: [.linux], configuration: .release)

    /// The Swift runtime and Foundation are linked into each executable, as `--static-swift-stdlib`
    /// does (the Containerfile's build): only the code the gateway uses is linked, and the loader has
    /// no Swift libraries to map and relocate (about 4 MB less resident memory at idle). Compiling with
    /// `-static-stdlib` too makes the Foundation modules name the static libraries they need.
    static let swiftSettings: [SwiftSetting] = [.unsafeFlags(["-static-stdlib"], condition)]

    /// Every executable: linked statically by lld, which packs the relative relocations (the loader
    /// reads 3.5 MB of them otherwise, resident for good), with no dynamic symbol table for the
    /// linked-in runtime (`-export-dynamic` of the toolchain's static-stdlib arguments: 2.5 MB more the
    /// loader reads; crash backtraces read the file's own symbol table).
    static let executable: [LinkerSetting] = [
        .unsafeFlags(
            ["-static-stdlib", "-use-ld=lld", "-Xlinker", "--no-export-dynamic"]
                + (glibcReadsPackedRelocations ? ["-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"] : []),
            condition
        )
    ]

    /// The gateway: as every executable, with the code that runs laid out together (lld's
    /// `--symbol-ordering-file`, from the list benchmarks/link-order.sh makes beside itself): the pages
    /// of code resident at idle go from 22 to 14 MB. A stale list costs memory, never correctness.
    static let gateway: [LinkerSetting] =
        executable + [
            .unsafeFlags(
                [
                    "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/benchmarks/link-order.txt",
                    "-Xlinker", "--no-warn-symbol-ordering",
                ],
                condition
            )
        ]

    /// glibc 2.36 or later reads packed relative relocations (DT_RELR, `-z pack-relative-relocs`).
    static let glibcReadsPackedRelocations: Bool = {
        #if canImport(Glibc)
        var text = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
        guard confstr(Int32(_CS_GNU_LIBC_VERSION), &text, text.count) > 0 else { return false }
        let name = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let version = name.split(separator: " ").last?.split(separator: ".").compactMap { Int($0) } ?? []
        return version.count >= 2 && (version[0], version[1]) >= (2, 36)
        #else
        return false
        #endif
    }()
}

// MARK: The parsers' libFuzzer targets (scripts/fuzz.sh), only in its fuzzing build: `fuzz-parsers`
// has a main of its own and links libFuzzer's driver without libFuzzer's main (the script passes
// the toolchain's `libclang_rt.fuzzer_no_main` archive to the linker).
if fuzzing {
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "fuzz/CLibFuzzer"),
        .executableTarget(
            name: "fuzz-parsers",
            dependencies: [
                "Audit", "CLibFuzzer", "CourierInbox", "Domain", "GatewayAPI", "GatewayConfiguration", "JSONValue",
                "Kratos",
                "Mail", "RFC3339", "Server", "Templates", "UUIDText",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "fuzz/Parsers",
            swiftSettings: languageSettings,
            linkerSettings: [.unsafeFlags(["-sanitize=address", "-use-ld=lld"])]
        ),
    ]
}
