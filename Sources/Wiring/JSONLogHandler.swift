import Foundation
import Logging
import RFC3339

/// A swift-log handler that writes one JSON object per line to standard output: `ts` (UTC, ISO 8601
/// with milliseconds), `level`, `msg`, `logger`, then the metadata as strings. Each line goes out in
/// one `write`, so lines from concurrent tasks never interleave.
///
/// What is logged is the callers' business: the gateway logs request ids, delivery ids and masked
/// recipients, never a link, a code, a key or a full address.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    private let label: String
    private let write: @Sendable (Data) -> Void

    /// A handler for the logger `label`, writing to standard output (or to `write`, for tests).
    public init(
        label: String,
        write: @escaping @Sendable (Data) -> Void = { FileHandle.standardOutput.write($0) }
    ) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in metadataProvider?.get() ?? [:] { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        fields["ts"] = Timestamp.format(Date())
        fields["level"] = event.level.rawValue
        fields["msg"] = event.message.description
        fields["logger"] = label
        write(JSONLogLine.encode(fields))
    }

}
