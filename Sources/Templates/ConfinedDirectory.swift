import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read access to one directory tree that cannot leave it: every path is resolved (symlinks included)
/// and refused unless it stays under the tree's real root. Names of entries come from listing the
/// tree, never from callers.
struct ConfinedDirectory: Sendable {
    /// The resolved absolute path of the root.
    let root: String
    /// Template files larger than this are refused; real templates are a few KiB.
    static let maximumFileSize = 512 * 1024

    /// What a resolved entry is.
    enum EntryKind {
        case file
        case directory
        case other
    }

    init(path: String) throws(TemplateError) {
        guard let resolved = Self.realPath(path) else {
            throw TemplateError(.io, "templates directory does not exist or cannot be resolved", file: path)
        }
        guard Self.kind(ofResolved: resolved) == .directory else {
            throw TemplateError(.io, "templates directory is not a directory", file: path)
        }
        root = resolved
    }

    /// The names in `relative` (a path below the root, "" for the root), sorted, without hidden entries.
    func list(_ relative: String) throws(TemplateError) -> [String] {
        let path = try resolve(relative)
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw TemplateError(.io, "cannot list directory", file: display(relative))
        }
    }

    /// What `relative` is after resolving symlinks; refuses paths that end up outside the root.
    func kind(of relative: String) throws(TemplateError) -> EntryKind {
        Self.kind(ofResolved: try resolve(relative))
    }

    /// The UTF-8 text of the regular file `relative`.
    func read(_ relative: String) throws(TemplateError) -> String {
        let path = try resolve(relative)
        guard Self.kind(ofResolved: path) == .file else {
            throw TemplateError(.layout, "is not a regular file", file: display(relative))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TemplateError(.io, "cannot be read", file: display(relative))
        }
        guard data.count <= Self.maximumFileSize else {
            throw TemplateError(.layout, "is larger than \(Self.maximumFileSize) bytes", file: display(relative))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TemplateError(.layout, "is not valid UTF-8", file: display(relative))
        }
        return text
    }

    /// The path as shown in errors: the configured root joined with the relative path.
    func display(_ relative: String) -> String {
        relative.isEmpty ? root : root + "/" + relative
    }

    /// The real path of `relative`, which must be the root or below it.
    private func resolve(_ relative: String) throws(TemplateError) -> String {
        let joined = relative.isEmpty ? root : root + "/" + relative
        guard let resolved = Self.realPath(joined) else {
            throw TemplateError(.io, "cannot be resolved (missing, or a dangling symlink)", file: display(relative))
        }
        guard resolved == root || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw TemplateError(
                .outsideDirectory,
                "leads outside the templates directory (resolves to \(resolved)); refused",
                file: display(relative)
            )
        }
        return resolved
    }

    private static func realPath(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func kind(ofResolved path: String) -> EntryKind {
        var status = stat()
        guard stat(path, &status) == 0 else { return .other }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }
}
