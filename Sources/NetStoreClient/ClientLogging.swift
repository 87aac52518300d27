import Logging

/// Loggers for programs that keep standard output for data (`netstore cat`).
public enum ClientLogging {
    /// A logger writing to standard error at `level` and above.
    public static func standardError(label: String = "netstore", level: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = level
        return logger
    }
}
