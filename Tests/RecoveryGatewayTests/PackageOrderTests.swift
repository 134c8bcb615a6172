import Foundation
import TestSupport
import Testing

/// Package.swift reads as the module graph: each module after the modules it depends on, then the test
/// targets (TestSupport first). When this fails, run scripts/order-package.py.
@Suite struct PackageOrderTests {
    /// The targets of the manifest's `targets: [ … ]` list, in order: name, whether it is a test target
    /// (or TestSupport), and the targets of this package it depends on.
    static func targets() throws -> [(name: String, isTest: Bool, dependencies: [String])] {
        let manifest = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let start = try #require(manifest.range(of: "\n    targets: [\n"))
        let end = try #require(manifest[start.upperBound...].range(of: "\n    ]\n)"))
        let list = manifest[start.upperBound..<end.lowerBound]
        var targets: [(name: String, isTest: Bool, dependencies: [String])] = []
        for chunk in list.components(separatedBy: "\n        .").map({ $0.drop { $0 == " " || $0 == "." } }) {
            guard let kind = chunk.firstMatch(of: /^(target|testTarget|executableTarget|systemLibrary)\(/)?.output.1,
                let name = chunk.firstMatch(of: /name: "([^"]+)"/)?.output.1
            else { continue }
            var dependencies: [String] = []
            if let listed = chunk.firstMatch(of: /dependencies: \[([^\]]*)\]/)?.output.1 {
                let local = listed.replacing(/\.product\([^)]*\)/, with: "")
                dependencies = local.matches(of: /"([^"]+)"/).map { String($0.output.1) }
            }
            targets.append((String(name), kind == "testTarget" || name == "TestSupport", dependencies))
        }
        return targets
    }

    @Test func everyModuleComesAfterWhatItDependsOn() throws {
        let targets = try Self.targets()
        #expect(targets.count > 30)
        let position = Dictionary(uniqueKeysWithValues: targets.enumerated().map { ($1.name, $0) })
        for (index, target) in targets.enumerated() {
            for dependency in target.dependencies where position[dependency] != nil {
                #expect(
                    position[dependency]! < index,
                    "\(target.name) comes before its dependency \(dependency): run scripts/order-package.py"
                )
            }
        }
    }

    @Test func theTestsComeAfterTheModulesTestSupportFirst() throws {
        let kinds = try Self.targets()
        let firstTest = try #require(kinds.firstIndex { $0.isTest })
        #expect(kinds[firstTest].name == "TestSupport")
        let modulesAmongTests = kinds[firstTest...].filter { !$0.isTest }.map(\.name)
        #expect(modulesAmongTests.isEmpty, "\(modulesAmongTests) among the tests: run scripts/order-package.py")
    }
}
