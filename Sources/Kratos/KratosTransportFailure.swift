import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// Turns a failure to get an answer at all (timeout, refused or dropped connection) into a transient
/// `KratosError` whose text names the class of failure, never the request.
enum KratosTransportFailure {
    static func classify(_ error: any Error, timeout: Duration) -> KratosError {
        KratosError(kind: .transient, status: nil, reason: describe(error, timeout: timeout))
    }

    static func describe(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .getConnectionFromPoolTimeout,
                .tlsHandshakeTimeout:
                return "no answer within \(timeout)"
            case .remoteConnectionClosed:
                return "connection closed before a complete answer"
            case .cancelled:
                return "call cancelled"
            case .invalidURL, .emptyHost, .emptyScheme:
                return "admin URL is not usable"
            default:
                return "HTTP failure (\(error.shortDescription))"
            }
        }
        if error is NIOConnectionError { return "connection refused or unreachable" }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "no answer within \(timeout)"
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return "connection closed before a complete answer"
            default: return "connection failure"
            }
        }
        if let error = error as? IOError {
            return "connection failure (\(error.errnoCode == 111 ? "refused" : "errno \(error.errnoCode)"))"
        }
        if error is NIOTooManyBytesError { return "answer larger than \(KratosClient.maximumBodySize) bytes" }
        if error is CancellationError { return "call cancelled" }
        return "connection failure (\(String(describing: type(of: error))))"
    }
}

extension HTTPClientError {
    /// The error's name without associated details (which may carry request parts).
    fileprivate var shortDescription: String {
        let text = String(describing: self)
        return String(text.prefix { $0 != "(" && $0 != ":" }).replacingOccurrences(of: "HTTPClientError.", with: "")
    }
}
