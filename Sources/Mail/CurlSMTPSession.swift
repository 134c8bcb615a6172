import CCurl
import Foundation

/// libcurl's process-wide set-up. Swift runs a global's initializer exactly once, thread-safely,
/// so every session that reads it shares one `curl_global_init` call.
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// One libcurl easy handle that sends messages over a kept-open SMTP connection.
///
/// `@unchecked Sendable` because it is not thread-safe by itself, and need not be:
/// ``SMTPTransport`` keeps idle sessions behind a mutex and hands each to one pool thread at a
/// time, for one message, so no two threads ever touch the same handle at once.
final class CurlSMTPSession: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    private var connectTo: UnsafeMutablePointer<curl_slist>?
    private let password: String?
    /// Set after a failure that may have left the connection unusable: the next send redials.
    private var needsFreshConnection = false

    init(configuration: SMTPConfiguration) throws(SMTPError) {
        guard curlGlobalInit == CURLE_OK, let handle = curl_easy_init() else {
            throw SMTPError(kind: .configuration, stage: .connect, code: nil, message: "libcurl could not be initialised")
        }
        self.handle = handle
        self.password = configuration.password
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(configuration)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(connectTo)
        errorBuffer.deallocate()
    }

    private func configure(_ configuration: SMTPConfiguration) throws(SMTPError) {
        let scheme = configuration.security == .implicitTLS ? "smtps" : "smtp"
        let urlHost = configuration.serverName ?? configuration.host
        let bracketed = urlHost.contains(":") ? "[\(urlHost)]" : urlHost
        let url = "\(scheme)://\(bracketed):\(configuration.port)/\(configuration.localName ?? "")"
        let milliseconds = Int(configuration.timeout.components.seconds * 1000)
            + Int(configuration.timeout.components.attoseconds / 1_000_000_000_000_000)
        var results = [
            ccurl_setopt_string(handle, CURLOPT_URL, url),
            ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer),
            ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1),
            ccurl_setopt_long(handle, CURLOPT_MAXCONNECTS, 1),
            ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1),
            ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds),
            ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds),
            ccurl_setopt_read_function(handle, readCallback),
            ccurl_setopt_debug_function(handle, debugCallback),
            ccurl_setopt_long(handle, CURLOPT_VERBOSE, 1),
            ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(configuration.security == .none ? CURLUSESSL_NONE.rawValue : CURLUSESSL_ALL.rawValue)),
            ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, configuration.verifyCertificate ? 1 : 0),
            ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, configuration.verifyCertificate ? 2 : 0),
        ]
        if let username = configuration.username { results.append(ccurl_setopt_string(handle, CURLOPT_USERNAME, username)) }
        if let password = configuration.password { results.append(ccurl_setopt_string(handle, CURLOPT_PASSWORD, password)) }
        if let caFile = configuration.caFile { results.append(ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        if configuration.serverName != nil {
            let hostPart = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
            connectTo = curl_slist_append(nil, "\(urlHost):\(configuration.port):\(hostPart):\(configuration.port)")
            results.append(ccurl_setopt_pointer(handle, CURLOPT_CONNECT_TO, connectTo))
        }
        if let failed = results.first(where: { $0 != CURLE_OK }) {
            throw SMTPError(kind: .configuration, stage: .connect, code: nil, message: "libcurl refused an option: \(String(cString: curl_easy_strerror(failed)))")
        }
    }

    /// Sends `message` from `sender` to `recipients`. A connection that turns out to be dead when
    /// it is reused, before any of the message was handed over, is redialled once at once.
    func send(sender: EmailAddress, recipients: [EmailAddress], message: [UInt8]) -> Result<SMTPReceipt, SMTPError> {
        let first = perform(sender: sender, recipients: recipients, message: message)
        guard first.mayRetryOnFreshConnection else { return first.result }
        needsFreshConnection = true
        return perform(sender: sender, recipients: recipients, message: message).result
    }

    private func perform(
        sender: EmailAddress,
        recipients: [EmailAddress],
        message: [UInt8]
    ) -> (result: Result<SMTPReceipt, SMTPError>, mayRetryOnFreshConnection: Bool) {
        let state = TransferState(message: message)
        var recipientList: UnsafeMutablePointer<curl_slist>?
        for recipient in recipients { recipientList = curl_slist_append(recipientList, "<\(recipient)>") }
        defer { curl_slist_free_all(recipientList) }
        let userdata = Unmanaged.passUnretained(state).toOpaque()
        _ = ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(sender)>")
        _ = ccurl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, recipientList)
        _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, userdata)
        _ = ccurl_setopt_pointer(handle, CURLOPT_DEBUGDATA, userdata)
        _ = ccurl_setopt_long(handle, CURLOPT_FRESH_CONNECT, needsFreshConnection ? 1 : 0)
        errorBuffer[0] = 0
        let code = withExtendedLifetime(state) { curl_easy_perform(handle) }
        needsFreshConnection = false

        if code == CURLE_OK {
            let reply = state.lastReply ?? "250"
            return (.success(SMTPReceipt(code: state.lastReplyCode ?? 250, reply: reply)), false)
        }
        var connects = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
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
private final class TransferState {
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
        let verb = String(decoding: line.prefix(while: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }), as: UTF8.self)
        let stages: [String: SMTPError.Stage] = [
            "EHLO": .ehlo, "HELO": .ehlo, "STARTTLS": .startTLS, "AUTH": .auth,
            "MAIL": .mailFrom, "RCPT": .rcptTo, "DATA": .data,
        ]
        if verb.uppercased() == "QUIT" { quitting = true }
        guard !quitting else { return }
        if let next = stages[verb.uppercased()] { stage = next }
        awaitingReply = true
    }

    /// Notes one line of a server reply (`250-…` continues, `250 …` ends a reply).
    func replyReceived(_ line: UnsafeBufferPointer<UInt8>) {
        guard !quitting else { return }
        let text = SMTPFailureClassifier.sanitize(String(decoding: line, as: UTF8.self))
        guard text.count >= 3, let code = Int(text.prefix(3)) else { return }
        if stage == .connect { stage = .greeting }
        let isLast = text.count == 3 || text[text.index(text.startIndex, offsetBy: 3)] != "-"
        guard isLast else { return }
        lastReply = text
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
    state.message.withUnsafeBufferPointer { source in
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
