import Foundation

/// The files that hold the audit log's keys: raw bytes, created with mode 0600 (and their
/// directory) when missing, so a key is never readable by others.
enum KeyFile {
    /// The file's bytes.
    static func read(_ file: URL) throws(AuditKeyError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: file))
        } catch {
            throw .unreadable(path: file.path, reason: String(describing: error))
        }
    }

    /// The file's bytes, or `fresh()` written to a new file when it does not exist.
    static func readOrCreate(_ file: URL, fresh: () -> [UInt8]) throws(AuditKeyError) -> [UInt8] {
        let manager = FileManager.default
        if manager.fileExists(atPath: file.path) { return try read(file) }
        let bytes = fresh()
        do {
            try manager.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            // Create the file with 0600 from the start, so the key is never readable by others.
            guard manager.createFile(atPath: file.path, contents: Data(bytes), attributes: [.posixPermissions: 0o600])
            else {
                throw CocoaError(.fileWriteUnknown)
            }
        } catch {
            throw .unwritable(path: file.path, reason: String(describing: error))
        }
        return bytes
    }
}
