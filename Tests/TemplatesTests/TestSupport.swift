import Foundation
import JSONValue
import Templates

/// A fresh directory under the system temp dir for one test, removed by `cleanUp()`.
struct TempDirectory {
    let path: String

    init() throws {
        path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("templates-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `relative`, creating directories on the way.
    func write(_ relative: String, _ text: String) throws {
        let file = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    }

    /// Writes a minimal valid link template `name` in `locale`.
    func writeLinkTemplate(_ name: String = "recovery", locale: String = "en", html: String? = nil) throws {
        try write("\(name)/\(locale)/subject.mustache", "Recover your account\n")
        try write(
            "\(name)/\(locale)/body.txt.mustache",
            "[\(locale)] Open {{RecoveryURL}} within {{ExpiresInMinutes}} min.\n"
        )
        if let html { try write("\(name)/\(locale)/body.html.mustache", html) }
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

enum Paths {
    /// The repository's shipped templates.
    static let shippedTemplates = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates").path

    /// A fixture directory copied into the test bundle.
    static func fixture(_ name: String) -> String {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }
}

enum Sample {
    static let link = "https://auth.example.com/self-service/recovery?flow=3f1c&token=Zx9Ab&x=1"
    static let code = "482913"

    static func data(
        link: String? = Sample.link,
        code: String? = nil,
        to: String = "jane@example.com",
        traits: JSONValue = .object(["email": .string("jane@example.com")]),
        payload: JSONValue = .object([:])
    ) -> TemplateData {
        TemplateData(
            to: to,
            recoveryURL: link,
            recoveryCode: code,
            identityID: "9f5c1a2e-7d4b-4c1e-9a6f-0b2d3c4e5f60",
            traits: traits,
            expiresInMinutes: 60,
            transientPayload: payload
        )
    }
}

/// Runs `body` and returns the `TemplateError` it throws, or `nil` when it does not throw.
func templateError<T>(_ body: () throws(TemplateError) -> T) -> TemplateError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
