import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A secret key kept in a file of its own: created once with random bytes, readable by its owner only.
public enum KeyFile {
    /// Creates `file` (and its parent directory, mode 0700: keys get a directory of their own) holding
    /// `byteCount` random bytes, mode 0600 from the start, and returns them; returns `nil`, writing nothing, when the file already exists — also when
    /// another process created it a moment earlier (`O_EXCL`), so two starts never make two keys.
    public static func createIfAbsent(file: URL, byteCount: Int) throws(KeyFileError) -> [UInt8]? {
        let path = file.path
        // Checked first so that an existing key on a read-only file system is never written to.
        if FileManager.default.fileExists(atPath: path) { return nil }
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(),
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw .unwritable(path: path, reason: String(describing: error))
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor < 0 {
            if errno == EEXIST { return nil }
            throw .unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == byteCount, synced else {
            unlink(path)
            throw .unwritable(path: path, reason: "short write")
        }
        return bytes
    }

    /// The bytes of `file`, which must hold exactly `byteCount` bytes and give no permission to others and
    /// none but reading to its group (`chmod 600`, `400`, or `440` as Kubernetes mounts a Secret for the
    /// pod's `fsGroup`; a symlink, as Kubernetes mounts it, is judged by its target); a missing,
    /// unreadable, wrong-sized or loose file is an error naming the path.
    public static func readPrivate(file: URL, byteCount: Int) throws(KeyFileError) -> [UInt8] {
        let path = file.path
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = Int(status.st_mode) & 0o777
        if mode & 0o037 != 0 { throw .looseMode(path: path, mode: mode) }
        let bytes = try read(file: file)
        guard bytes.count == byteCount else {
            throw .wrongSize(path: path, byteCount: bytes.count, expected: byteCount)
        }
        return bytes
    }

    /// The bytes of `file`, whatever their number and the file's mode (for keys whose callers check
    /// the size themselves, or that must accept a group-readable mount); unreadable is an error
    /// naming the path.
    public static func read(file: URL) throws(KeyFileError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: file))
        } catch {
            throw .unreadable(path: file.path, reason: String(describing: error))
        }
    }

    /// ``readPrivate(file:byteCount:)``, creating the file first (``createIfAbsent(file:byteCount:)``)
    /// when it does not exist.
    public static func loadOrCreate(file: URL, byteCount: Int) throws(KeyFileError) -> [UInt8] {
        if let created = try createIfAbsent(file: file, byteCount: byteCount) { return created }
        return try readPrivate(file: file, byteCount: byteCount)
    }
}

/// Why a key file could not be read or created. Never contains key material.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// The file (or its directory) could not be created.
    case unwritable(path: String, reason: String)
    /// The file holds another number of bytes than the key has.
    case wrongSize(path: String, byteCount: Int, expected: Int)
    /// The file's mode lets others at it, or its group do more than read it.
    case looseMode(path: String, mode: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read key file \(path): \(reason)"
        case .unwritable(let path, let reason): "cannot create key file \(path): \(reason)"
        case .wrongSize(let path, let count, let expected):
            "key file \(path) has \(count) bytes; it must have exactly \(expected)"
        case .looseMode(let path, let mode):
            "key file \(path) has mode \(String(mode, radix: 8)); it must be readable by its owner (and at most its group) only (chmod 600)"
        }
    }
}
