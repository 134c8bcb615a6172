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
        // In the order in which a later one wins a key: the handler's metadata, the provider's, the
        // event's, then the handler's own four fields.
        let provided = metadataProvider?.get()
        var fields: [(key: String, value: String)] = []
        fields.reserveCapacity(metadata.count + (provided?.count ?? 0) + (event.metadata?.count ?? 0) + 4)
        for (key, value) in metadata { fields.append((key, Self.text(value))) }
        for (key, value) in provided ?? [:] { fields.append((key, Self.text(value))) }
        for (key, value) in event.metadata ?? [:] { fields.append((key, Self.text(value))) }
        fields.append(("ts", Timestamp.format(Date())))
        fields.append(("level", event.level.rawValue))
        fields.append(("msg", event.message.description))
        fields.append(("logger", label))
        write(JSONLogLine.encode(fields))
    }

    /// A metadata value as the line's string: a string as it is (not interpolated into a new one),
    /// anything else as it describes itself.
    private static func text(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }

}
