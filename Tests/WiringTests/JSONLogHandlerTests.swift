import Foundation
import Logging
import Synchronization
import Testing

@testable import Wiring

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test func oneObjectPerLineWithMetadata() throws {
        let lines = Mutex<[Data]>([])
        var logger = Logger(label: "test") { label in
            JSONLogHandler(label: label) { data in lines.withLock { $0.append(data) } }
        }
        logger[metadataKey: "request_id"] = "req-1"
        logger.info("accepted", metadata: ["delivery_id": "d-1", "recipient": "j***@e***.com"])
        logger.debug("not at info level")
        let written = lines.withLock { $0 }
        try #require(written.count == 1)
        #expect(written[0].last == 0x0A)
        let object = try #require(try JSONSerialization.jsonObject(with: written[0]) as? [String: String])
        #expect(object["msg"] == "accepted")
        #expect(object["level"] == "info")
        #expect(object["logger"] == "test")
        #expect(object["request_id"] == "req-1")
        #expect(object["delivery_id"] == "d-1")
        #expect(object["recipient"] == "j***@e***.com")
        #expect(object["ts"]?.hasSuffix("Z") == true)
    }

    /// Keys come out sorted, each once: the event's metadata wins over the logger's, and the
    /// handler's own fields over both; control characters are escaped.
    @Test func eachKeyOnceSortedTheLaterSourceWinning() throws {
        let lines = Mutex<[Data]>([])
        var logger = Logger(label: "test") { label in
            JSONLogHandler(label: label) { data in lines.withLock { $0.append(data) } }
        }
        logger[metadataKey: "zone"] = "logger"
        logger[metadataKey: "b"] = "logger"
        logger.info("hi", metadata: ["b": "event", "a": "tab\there", "msg": "not the message"])
        let line = try #require(lines.withLock { $0.first })
        let text = String(decoding: line, as: UTF8.self)
        #expect(
            text.hasPrefix(#"{"a":"tab\there","b":"event","level":"info","logger":"test","msg":"hi","ts":""#)
        )
        #expect(text.hasSuffix("\",\"zone\":\"logger\"}\n"))
    }

    @Test func messagesWithQuotesAndNewlinesStayOneLine() throws {
        let lines = Mutex<[Data]>([])
        let logger = Logger(label: "test") { label in
            JSONLogHandler(label: label) { data in lines.withLock { $0.append(data) } }
        }
        logger.error("two\nlines and a \"quote\"")
        let line = try #require(lines.withLock { $0.first })
        #expect(line.filter { $0 == 0x0A }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: String])
        #expect(object["msg"] == "two\nlines and a \"quote\"")
    }
}
