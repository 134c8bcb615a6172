/// The check of a store opened read-only: its schema must be exactly this version's, since
/// nothing may be migrated to make it so.
public enum SchemaVersions {
    /// Throws `schemaNewer` when `applied` has a migration `known` lacks, `schemaOlder` when it
    /// lacks one of `known` (ordered, oldest first); both name the two versions.
    public static func requireExactly(_ known: [String], applied: Set<String>) throws(StoreError) {
        let binary = known.last ?? "none"
        if let newest = applied.subtracting(known).sorted(by: isOlder).last {
            throw .schemaNewer(database: newest, binary: binary)
        }
        guard known.allSatisfy(applied.contains) else {
            throw .schemaOlder(database: known.last(where: applied.contains) ?? "none", binary: binary)
        }
    }

    /// Migration names are `v<number>_<what>`: ordered by the number, then by name.
    static func isOlder(_ left: String, _ right: String) -> Bool {
        func number(_ name: String) -> Int { Int(name.dropFirst().prefix { $0.isNumber }) ?? 0 }
        return (number(left), left) < (number(right), right)
    }
}
