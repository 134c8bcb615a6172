import Foundation

/// Turns what libcurl and the server said about a failed transfer into an ``SMTPError`` whose
/// class the retry policy can act on.
enum SMTPFailureClassifier {
    // libcurl's CURLcode values (stable ABI numbers, see curl/curl.h).
    private static let unsupportedProtocol = 1
    private static let urlMalformat = 3
    private static let notBuiltIn = 4
    private static let sslConnectError = 35
    private static let sslCertProblem = 58
    private static let sslCipher = 59
    private static let peerFailedVerification = 60
    private static let useSSLFailed = 64
    private static let loginDenied = 67
    private static let sslCACertBadFile = 77
    private static let sslIssuerError = 83

    /// - Parameters:
    ///   - curlCode: the `CURLcode` of `curl_easy_perform`.
    ///   - stage: the SMTP step in progress when it failed.
    ///   - replyCode: the server's reply to that step, if one came.
    ///   - serverText: the server's reply line, if one came.
    ///   - curlText: libcurl's error text.
    static func classify(
        curlCode: Int,
        stage: SMTPError.Stage,
        replyCode: Int?,
        serverText: String?,
        curlText: String
    ) -> SMTPError {
        let message = serverText ?? sanitize(curlText)
        func error(_ kind: SMTPError.Kind) -> SMTPError {
            SMTPError(kind: kind, stage: stage, code: replyCode, message: message)
        }
        if let replyCode {
            switch replyCode / 100 {
            case 4:
                return error(.transient)
            case 5:
                switch stage {
                case .connect, .greeting, .ehlo, .startTLS, .auth:
                    // The server refuses this client, its TLS or its credentials: the operator's to fix.
                    return error(.configuration)
                case .mailFrom, .rcptTo, .data, .endOfData:
                    // 530: authentication (or STARTTLS) required before mail is taken.
                    return error(replyCode == 530 ? .configuration : .permanent)
                }
            default:
                break
            }
        }
        switch curlCode {
        case useSSLFailed, peerFailedVerification, sslCACertBadFile, sslCertProblem, sslCipher, sslConnectError,
            sslIssuerError, loginDenied, unsupportedProtocol, urlMalformat, notBuiltIn:
            return error(.configuration)
        default:
            // Refused or dropped connections, timeouts, resolver failures: worth another try.
            return error(.transient)
        }
    }

    /// Printable ASCII only, without the line end, at most 512 characters: safe to store and log.
    static func sanitize(_ text: String) -> String {
        sanitize(Array(text.utf8)[...])
    }

    /// ``sanitize(_:)-(String)`` for the octets of a reply line, as libcurl hands them over.
    static func sanitize<Octets: Collection<UInt8>>(_ octets: Octets) -> String {
        var printable = octets.filter { $0 >= 0x20 && $0 < 0x7F }.prefix(512)
        while printable.first == 0x20 { printable.removeFirst() }
        while printable.last == 0x20 { printable.removeLast() }
        return String(decoding: printable, as: UTF8.self)
    }
}

extension SMTPError {
    /// The same error with every occurrence of `secret` in its text replaced by `***`.
    func redacting(_ secret: String?) -> SMTPError {
        guard let secret, !secret.isEmpty, message.contains(secret) else { return self }
        return SMTPError(
            kind: kind,
            stage: stage,
            code: code,
            message: message.replacingOccurrences(of: secret, with: "***")
        )
    }
}
