/// One entry of a Redis stream: its id and its field/value pairs.
public struct StreamEntry: Sendable, Equatable {
    public let id: String
    public let fields: [String: [UInt8]]

    public init(id: String, fields: [String: [UInt8]]) {
        self.id = id
        self.fields = fields
    }

    /// Entries of an `XREADGROUP`/`XREAD` reply (`[[stream, [[id, [f, v, …]], …]]]`, or nil on timeout).
    static func fromRead(_ reply: RedisReply) throws(RedisError) -> [StreamEntry] {
        guard let streams = reply.array else { return [] }
        var entries: [StreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let items = pair[1].array else {
                throw .protocolViolation("unexpected stream read reply")
            }
            for item in items { if let entry = try parse(item) { entries.append(entry) } }
        }
        return entries
    }

    /// An `[id, [f, v, …]]` item; nil when the entry was deleted (its body is nil).
    static func parse(_ item: RedisReply) throws(RedisError) -> StreamEntry? {
        guard let parts = item.array, parts.count == 2, let id = parts[0].string else {
            throw .protocolViolation("unexpected stream entry")
        }
        guard let flat = parts[1].array else { return nil }
        var fields: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string, case .bulk(let value) = flat[index + 1] { fields[name] = value }
            index += 2
        }
        return StreamEntry(id: id, fields: fields)
    }
}

/// The reply of `XAUTOCLAIM` on Redis 7: the next cursor, the claimed entries, and the ids that no
/// longer exist in the stream (removed from the pending list by Redis itself).
struct AutoClaimResult {
    let cursor: String
    let entries: [StreamEntry]
    let deleted: [String]

    init(_ reply: RedisReply) throws(RedisError) {
        guard let parts = reply.array, parts.count >= 2, let cursor = parts[0].string, let items = parts[1].array else {
            throw .protocolViolation("unexpected XAUTOCLAIM reply")
        }
        self.cursor = cursor
        var entries: [StreamEntry] = []
        var deleted: [String] = []
        for item in items {
            if let entry = try StreamEntry.parse(item) {
                entries.append(entry)
            } else if let id = item.array?.first?.string {
                deleted.append(id)
            }
        }
        if parts.count >= 3, let gone = parts[2].array { deleted.append(contentsOf: gone.compactMap(\.string)) }
        self.entries = entries
        self.deleted = deleted
    }
}
