import Foundation
import Mail

/// Sends `count` copies of a realistic recovery email through ``SMTPTransport`` with
/// `connections` pooled connections and prints one line of figures (benchmarks/smtp.sh runs it).
///
/// Usage: smtp-benchmark URL COUNT CONNECTIONS SENDERS (concurrent callers of `send`)
@main
enum SMTPBenchmark {
    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("smtp-benchmark: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 5, let count = Int(arguments[2]), let connections = Int(arguments[3]),
            let senders = Int(arguments[4])
        else {
            FileHandle.standardError.write(Data("usage: smtp-benchmark URL COUNT CONNECTIONS SENDERS\n".utf8))
            exit(2)
        }
        let transport = try SMTPTransport(configuration: SMTPConfiguration(url: arguments[1]), connections: connections)
        let link =
            "https://auth.example.com/self-service/recovery?flow=3f2a9c1e-7b7e-4c55-9d1e-6a0f2b1c9d8e&token="
            + String(repeating: "x", count: 32)
        let message = try EmailMessage(
            from: Mailbox(displayName: "Example", address: EmailAddress("no-reply@example.com")),
            to: Mailbox(address: EmailAddress("user@example.com")),
            subject: "Recover access to your account",
            text:
                "Hi,\n\nsomeone asked to recover the account for user@example.com.\nOpen this link within 60 minutes:\n\n\(link)\n\nIf it was not you, ignore this email.\n",
            html:
                "<table role=\"presentation\" width=\"100%\"><tr><td style=\"font-family:sans-serif\"><p>Hi,</p><p>Open <a href=\"\(link)\">this link</a> within 60 minutes.</p></td></tr></table>",
            messageID: .generate(domain: "example.com")
        )
        let bytes = message.rendered()
        let sender = message.from.address
        let recipients = [message.to.address]

        let start = ContinuousClock.now
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            // Senders each send their share back to back, as the gateway's delivery workers do.
            for worker in 0..<senders {
                let share = count / senders + (worker < count % senders ? 1 : 0)
                group.addTask {
                    for _ in 0..<share { _ = try await transport.send(bytes, from: sender, to: recipients) }
                    return share
                }
            }
            var total = 0
            for try await share in group { total += share }
            return total
        }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        await transport.shutdown()
        print(
            "sent=\(sent) bytes=\(bytes.count) seconds=\(String(format: "%.3f", seconds)) rate=\(Int(Double(sent) / seconds)) peak_rss_kb=\(peakRSSKilobytes())"
        )
    }

    /// The process's peak resident set size (VmHWM), in kB.
    static func peakRSSKilobytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
