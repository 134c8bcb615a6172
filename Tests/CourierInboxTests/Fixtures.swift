import CourierInbox
import Foundation
import JSONValue

/// The Kratos courier documents of Tests/Fixtures/kratos-courier (provenance in its README).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("kratos-courier")

    /// The template types of a fixture directory (`ctx-v26.2`, `default-body-v26.2`, …), sorted.
    static func types(in set: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(set).path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func data(_ set: String, _ type: String) throws -> Data {
        try Data(contentsOf: directory.appendingPathComponent(set).appendingPathComponent(type + ".json"))
    }

    static func document(_ set: String, _ type: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data(set, type))
    }

    static func message(_ set: String, _ type: String) throws -> KratosCourierMessage {
        try KratosCourierMessage(json: data(set, type))
    }

    /// A fresh, empty directory; the test removes it.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("courier-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension JSONValue {
    /// A copy with the member at `path` set to `value` (`nil` removes it); objects only.
    func setting(_ path: [String], to value: JSONValue?) -> JSONValue {
        guard case .object(var members) = self, let first = path.first else { return self }
        if path.count == 1 {
            members[first] = value
        } else {
            members[first] = (members[first] ?? .object([:])).setting(Array(path.dropFirst()), to: value)
        }
        return .object(members)
    }
}
