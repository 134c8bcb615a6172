import Foundation
import TestSupport
import Testing

/// ARCHITECTURE.md's module table names every module of Package.swift with exactly the package
/// modules it depends on, and the rules it states about the dependency direction hold.
@Suite("ARCHITECTURE.md matches Package.swift")
struct ArchitectureTests {
    /// Each source module of Package.swift (benchmarks and test support left out) with the modules
    /// of this package it depends on.
    static func packageModules() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        var modules: [String: Set<String>] = [:]
        for chunk in manifest.components(separatedBy: "\n        .").dropFirst() {
            guard
                chunk.hasPrefix("target(") || chunk.hasPrefix("executableTarget(") || chunk.hasPrefix("systemLibrary(")
            else { continue }
            guard !chunk.contains("path:"), let name = chunk.firstMatch(of: /name: "([^"]+)"/)?.output.1 else {
                continue
            }
            var dependencies: Set<String> = []
            if let list = chunk.firstMatch(of: /dependencies: \[([^\]]*)\]/)?.output.1 {
                let local = list.replacing(/\.product\([^)]*\)/, with: "")
                dependencies = Set(local.matches(of: /"([^"]+)"/).map { String($0.output.1) })
            }
            modules[String(name)] = dependencies
        }
        return modules
    }

    /// The rows of ARCHITECTURE.md's module table: module, and the modules in its last column.
    static func documentedModules() throws -> [String: Set<String>] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("ARCHITECTURE.md"), encoding: .utf8)
        let start = try #require(text.range(of: "\n## Modules\n"))
        let rest = text[start.upperBound...]
        let section = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        var modules: [String: Set<String>] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            modules[name] = Set(cells[cells.count - 1].matches(of: /`([^`]+)`/).map { String($0.output.1) })
        }
        return modules
    }

    @Test func everyModuleIsDocumentedWithItsDependencies() throws {
        let package = try Self.packageModules()
        let documented = try Self.documentedModules()
        #expect(package.count > 15)
        #expect(Set(documented.keys) == Set(package.keys))
        for (name, dependencies) in package {
            #expect(documented[name] == dependencies, "\(name)")
        }
    }

    @Test func theDependencyDirectionHolds() throws {
        let package = try Self.packageModules()
        #expect(
            package["Domain"]?.isDisjoint(with: ["GatewayConfiguration", "Server", "SQLiteStore", "PostgresStore"])
                == true
        )
        #expect(package["GatewayAPI"]?.isDisjoint(with: ["Domain", "Server"]) == true)
        #expect(package["recovery-gateway"]?.contains("Server") == false)
        #expect(package["PostgresStore"]?.contains("SQLiteStore") == false)
        #expect(package["Store"] == ["Audit", "DeliveryVocabulary", "JSONValue", "UUIDText"])
    }
}
