import GatewayConfiguration
import Logging

/// Sets up swift-log as the configuration says: JSON lines or plain text on stdout, at its level;
/// returns the gateway's logger.
public func bootstrapLogging(_ settings: LoggingSettings) -> Logger {
    let level = settings.level
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler =
            settings.format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardOutput(label: label)
        handler.logLevel = level
        return handler
    }
    return Logger(label: "recovery-gateway")
}
