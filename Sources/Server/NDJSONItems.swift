import Domain
import JSONValue
import NIOCore

/// The items of an `application/x-ndjson` body, read line by line as the bytes arrive: the body
/// is never held whole, only the line being read (at most ``maximumLineBytes``). Blank lines are
/// skipped; a line that is not JSON, or too long, is an item with its error, numbered by its line.
struct NDJSONItems<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = BatchInput

    let base: Base

    /// The longest line read; a longer one is reported and skipped.
    static var maximumLineBytes: Int { 64 * 1024 }

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator()) }

    /// Splits the chunks at line feeds.
    struct Iterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        var chunk = ByteBuffer()
        var line: [UInt8] = []
        var overlong = false
        var number = 0
        var finished = false

        init(base: Base.AsyncIterator) { self.base = base }

        mutating func next() async throws -> BatchInput? {
            while true {
                if let end = chunk.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    append(chunk.readBytes(length: end - chunk.readerIndex) ?? [])
                    chunk.moveReaderIndex(forwardBy: 1)
                    if let input = endLine() { return input }
                    continue
                }
                append(chunk.readBytes(length: chunk.readableBytes) ?? [])
                if finished { return nil }
                if let next = try await base.next() {
                    chunk = next
                } else {
                    finished = true
                    if !line.isEmpty || overlong, let input = endLine() { return input }
                    return nil
                }
            }
        }

        private mutating func append(_ bytes: [UInt8]) {
            guard !overlong else { return }
            if line.count + bytes.count > NDJSONItems.maximumLineBytes {
                overlong = true
                line = []
            } else {
                line += bytes
            }
        }

        /// The item of the line just ended, nil for a blank line.
        private mutating func endLine() -> BatchInput? {
            number += 1
            defer {
                line.removeAll(keepingCapacity: true)
                overlong = false
            }
            if overlong {
                let error = RequestError(field: "line", message: "is over \(NDJSONItems.maximumLineBytes) bytes")
                return BatchInput(position: number, item: .failure(error))
            }
            let blank: Set<UInt8> = [0x20, 0x09, 0x0D]
            guard line.contains(where: { !blank.contains($0) }) else { return nil }
            guard let value = try? JSONValue(parsing: line) else {
                return BatchInput(position: number, item: .failure(RequestError(field: "line", message: "is not JSON")))
            }
            return BatchInput(position: number, item: .success(value))
        }
    }
}
