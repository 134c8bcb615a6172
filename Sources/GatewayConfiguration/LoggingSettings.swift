import Logging

/// `logging`: how much is logged and in which shape.
public struct LoggingSettings: Sendable, Equatable, Decodable {
    /// The shape of a log line.
    public enum Format: String, Sendable, Equatable, CaseIterable {
        /// One JSON object per line, for log collectors.
        case json
        /// Human-readable text.
        case plain
    }

    /// The lowest level written (swift-log's levels: trace … critical).
    public var level: Logger.Level
    /// The line format.
    public var format: Format

    /// `info`, `json`.
    public static let defaults = LoggingSettings(level: .info, format: .json)

    /// Builds the settings as given.
    public init(level: Logger.Level, format: Format) {
        self.level = level
        self.format = format
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.logging)
        let level = try reader.choice(
            "level",
            Logger.Level.allCases.map(\.rawValue),
            default: Self.defaults.level.rawValue
        )
        self.level = Logger.Level(rawValue: level) ?? .info
        let format = try reader.choice(
            "format",
            Format.allCases.map(\.rawValue),
            default: Self.defaults.format.rawValue
        )
        self.format = Format(rawValue: format) ?? .json
    }
}
