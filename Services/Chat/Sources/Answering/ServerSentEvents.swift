import NIOCore

/// An incremental `text/event-stream` parser (the WHATWG rules, reduced to what model APIs send):
/// feed it the body's chunks as they arrive, split anywhere, and it returns each complete event's
/// data — its `data:` lines joined with `"\n"`. Lines may end in `\n`, `\r\n` or `\r`; a blank
/// line ends an event; lines starting with `:` are comments; other fields (`event:`, `id:`,
/// `retry:`) are ignored. Call ``finish()`` when the body ends to flush a last event that had no
/// closing blank line. One event may hold at most `maxEventBytes` bytes, so a server that never
/// ends its event cannot grow memory without bound. Use one parser per body, from one task.
public struct ServerSentEventParser: Sendable {
    /// The default cap on one event's size: 1 MiB.
    public static let defaultMaxEventBytes = 1 << 20

    /// The most bytes one event (its pending data plus the current line) may hold.
    public let maxEventBytes: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var afterCarriageReturn = false
    private var atFirstLine = true

    public init(maxEventBytes: Int = ServerSentEventParser.defaultMaxEventBytes) {
        self.maxEventBytes = maxEventBytes
    }

    /// Parses the next chunk of the body; returns the events it completed, in order.
    public mutating func feed(_ buffer: ByteBuffer) throws -> [String] {
        try feed(buffer.readableBytesView)
    }

    /// Parses the next chunk of the body; returns the events it completed, in order.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws -> [String] where Bytes.Element == UInt8 {
        var events: [String] = []
        for byte in bytes {
            if afterCarriageReturn {
                afterCarriageReturn = false
                if byte == Self.lineFeed { continue }  // the second half of a CRLF
            }
            switch byte {
            case Self.carriageReturn:
                afterCarriageReturn = true
                if let event = endLine() { events.append(event) }
            case Self.lineFeed:
                if let event = endLine() { events.append(event) }
            default:
                line.append(byte)
                if line.count + data.count > maxEventBytes {
                    throw ProviderError.malformed("a server-sent event exceeded \(maxEventBytes) bytes")
                }
            }
        }
        return events
    }

    /// The body ended: returns the last event if it was not closed by a blank line.
    public mutating func finish() -> [String] {
        var events: [String] = []
        if !line.isEmpty, let event = endLine() { events.append(event) }
        if let event = endLine() { events.append(event) }  // an empty line dispatches what is pending
        return events
    }

    /// Handles the line collected so far; returns an event when the line was blank and data was pending.
    private mutating func endLine() -> String? {
        defer { line.removeAll(keepingCapacity: true) }
        if atFirstLine {
            atFirstLine = false
            if line.starts(with: Self.byteOrderMark) { line.removeFirst(Self.byteOrderMark.count) }
        }
        if line.isEmpty { return dispatch() }
        if line[0] == Self.colon { return nil }  // a comment
        let colon = line.firstIndex(of: Self.colon) ?? line.endIndex
        guard line[..<colon].elementsEqual("data".utf8) else { return nil }
        var value = line[colon...].dropFirst()  // empty when the line has no colon
        if value.first == Self.space { value = value.dropFirst() }
        if hasData { data.append(Self.lineFeed) }
        data.append(contentsOf: value)
        hasData = true
        return nil
    }

    private mutating func dispatch() -> String? {
        guard hasData else { return nil }
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let colon = UInt8(ascii: ":")
    private static let space = UInt8(ascii: " ")
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
}
