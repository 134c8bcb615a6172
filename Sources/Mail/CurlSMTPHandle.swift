import CCurl
import Foundation

/// libcurl's process-wide set-up. Swift runs a global's initializer exactly once, thread-safely,
/// so every handle that reads it shares one `curl_global_init` call.
let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// One libcurl easy handle configured for the SMTP server, reused message after message.
///
/// Only the driver's thread touches it (see ``CurlSMTPDriver``): it is prepared for a message
/// with ``begin(_:)``, run by the multi interface, and read back with ``finish(_:)``.
final class CurlSMTPHandle {
    let easy: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    private var connectTo: UnsafeMutablePointer<curl_slist>?
    private var recipientList: UnsafeMutablePointer<curl_slist>?
    private let password: String?
    /// What the callbacks learn about the message in flight on this handle.
    private var state: TransferState?
    /// Set after a failure that may have left the connection unusable: the next message redials.
    private var needsFreshConnection = false

    init(configuration: SMTPConfiguration) throws(SMTPError) {
        guard curlGlobalInit == CURLE_OK, let easy = curl_easy_init() else {
            throw SMTPError(
                kind: .configuration,
                stage: .connect,
                code: nil,
                message: "libcurl could not be initialised"
            )
        }
        self.easy = easy
        self.password = configuration.password
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(configuration)
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(connectTo)
        curl_slist_free_all(recipientList)
        errorBuffer.deallocate()
    }

    private func configure(_ configuration: SMTPConfiguration) throws(SMTPError) {
        let scheme = configuration.security == .implicitTLS ? "smtps" : "smtp"
        let urlHost = configuration.serverName ?? configuration.host
        let bracketed = urlHost.contains(":") ? "[\(urlHost)]" : urlHost
        let url = "\(scheme)://\(bracketed):\(configuration.port)/\(configuration.localName ?? "")"
        let milliseconds = Int(configuration.timeout / .milliseconds(1))
        let useSSL = configuration.security == .none ? CURLUSESSL_NONE : CURLUSESSL_ALL
        var results = [
            ccurl_setopt_string(easy, CURLOPT_URL, url),
            ccurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer),
            ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1),
            ccurl_setopt_long(easy, CURLOPT_UPLOAD, 1),
            ccurl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1),
            ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds),
            ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, milliseconds),
            ccurl_setopt_read_function(easy, readCallback),
            ccurl_setopt_debug_function(easy, debugCallback),
            ccurl_setopt_long(easy, CURLOPT_VERBOSE, 1),
            ccurl_setopt_long(easy, CURLOPT_USE_SSL, Int(useSSL.rawValue)),
            ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, configuration.verifyCertificate ? 1 : 0),
            ccurl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, configuration.verifyCertificate ? 2 : 0),
        ]
        if let username = configuration.username {
            results.append(ccurl_setopt_string(easy, CURLOPT_USERNAME, username))
        }
        if let password = configuration.password {
            results.append(ccurl_setopt_string(easy, CURLOPT_PASSWORD, password))
        }
        if let caFile = configuration.caFile {
            results.append(ccurl_setopt_string(easy, CURLOPT_CAINFO, caFile))
        }
        if configuration.serverName != nil {
            // Verify the certificate against server_name while connecting to host.
            let hostPart = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
            connectTo = curl_slist_append(nil, "\(urlHost):\(configuration.port):\(hostPart):\(configuration.port)")
            results.append(ccurl_setopt_pointer(easy, CURLOPT_CONNECT_TO, connectTo))
        }
        if let failed = results.first(where: { $0 != CURLE_OK }) {
            let reason = String(cString: curl_easy_strerror(failed))
            throw SMTPError(
                kind: .configuration,
                stage: .connect,
                code: nil,
                message: "libcurl refused an option: \(reason)"
            )
        }
    }

    /// Prepares the handle to send `job`'s message; the driver then adds it to its multi handle.
    func begin(_ job: SMTPJob) {
        let state = TransferState(message: job.message)
        curl_slist_free_all(recipientList)
        recipientList = nil
        for recipient in job.recipients { recipientList = curl_slist_append(recipientList, "<\(recipient)>") }
        let userdata = Unmanaged.passUnretained(state).toOpaque()
        _ = ccurl_setopt_string(easy, CURLOPT_MAIL_FROM, "<\(job.sender)>")
        _ = ccurl_setopt_pointer(easy, CURLOPT_MAIL_RCPT, recipientList)
        _ = ccurl_setopt_pointer(easy, CURLOPT_READDATA, userdata)
        _ = ccurl_setopt_pointer(easy, CURLOPT_DEBUGDATA, userdata)
        _ = ccurl_setopt_long(easy, CURLOPT_FRESH_CONNECT, needsFreshConnection ? 1 : 0)
        errorBuffer[0] = 0
        needsFreshConnection = false
        self.state = state
    }

    /// What came of the transfer libcurl finished with `code`.
    ///
    /// `retry` is set when a kept-open connection turned out to be dead before any of the message
    /// was handed over: the server cannot have taken it, so the driver sends it again at once on
    /// a new connection (once).
    func finish(_ code: CURLcode) -> (result: Result<SMTPReceipt, SMTPError>, retry: Bool) {
        guard let state else { preconditionFailure("finish without begin") }
        self.state = nil
        if code == CURLE_OK {
            return (.success(SMTPReceipt(code: state.lastReplyCode ?? 250, reply: state.lastReply ?? "250")), false)
        }
        var connects = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &connects)
        let replyCode = state.awaitingReply ? nil : state.lastReplyCode
        let curlText = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        let error = SMTPFailureClassifier.classify(
            curlCode: Int(code.rawValue),
            stage: state.stage,
            replyCode: replyCode,
            serverText: replyCode == nil ? nil : state.lastReply,
            curlText: curlText
        ).redacting(password)
        if error.kind == .transient { needsFreshConnection = true }
        let reused = connects == 0
        let droppedBeforeMessage = state.offset == 0 && (replyCode == nil || replyCode == 421)
        return (.failure(error), error.kind == .transient && reused && droppedBeforeMessage)
    }
}

/// What one transfer collects through libcurl's callbacks.
final class TransferState {
    let message: [UInt8]
    /// How many octets of `message` libcurl has taken.
    var offset = 0
    var stage: SMTPError.Stage = .connect
    /// The last complete reply line from the server, sanitized, and its code.
    var lastReply: String?
    var lastReplyCode: Int?
    /// A command went out and its reply has not come (yet).
    var awaitingReply = false
    /// libcurl sent QUIT after a failure: the replies from here on say nothing about the message.
    var quitting = false

    init(message: [UInt8]) { self.message = message }

    /// Notes a command the client sent. Only the verb is read: AUTH continuation lines carry
    /// credentials and are never looked at beyond that.
    func commandSent(_ line: UnsafeBufferPointer<UInt8>) {
        let verb = String(decoding: line.prefix(while: { $0 >= UInt8(ascii: "A") }).prefix(8), as: UTF8.self)
        if verb == "QUIT" { quitting = true }
        guard !quitting else { return }
        switch verb {
        case "EHLO", "HELO": stage = .ehlo
        case "STARTTLS": stage = .startTLS
        case "AUTH": stage = .auth
        case "MAIL": stage = .mailFrom
        case "RCPT": stage = .rcptTo
        case "DATA": stage = .data
        default: break
        }
        awaitingReply = true
    }

    /// Notes one line of a server reply (`250-…` continues, `250 …` ends a reply).
    func replyReceived(_ line: UnsafeBufferPointer<UInt8>) {
        guard !quitting, line.count >= 3, line[0...2].allSatisfy({ (0x30...0x39).contains($0) }) else { return }
        if stage == .connect { stage = .greeting }
        guard line.count == 3 || line[3] != UInt8(ascii: "-") else { return }
        let code = line[0...2].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        lastReply = SMTPFailureClassifier.sanitize(line)
        lastReplyCode = code
        awaitingReply = false
        if stage == .data && code == 354 {
            // The content follows; the next reply is the one to its final ".".
            stage = .endOfData
            awaitingReply = true
        }
    }
}

private let readCallback: ccurl_read_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    let length = min(size * count, state.message.count - state.offset)
    guard length > 0 else { return 0 }
    state.message.withUnsafeBytes { source in
        UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + state.offset, byteCount: length)
    }
    state.offset += length
    return length
}

private let debugCallback: ccurl_debug_callback = { _, type, data, size, userdata in
    guard let data, let userdata else { return 0 }
    let state = Unmanaged<TransferState>.fromOpaque(userdata).takeUnretainedValue()
    let line = UnsafeBufferPointer(start: UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size)
    switch type {
    case CURLINFO_HEADER_OUT: state.commandSent(line)
    case CURLINFO_HEADER_IN: state.replyReceived(line)
    default: break
    }
    return 0
}
