import Foundation

/// The one envelope every event travels in, on every stream.
///
/// Readers ignore fields they do not know; an event whose `type` they do not know is acknowledged
/// and logged, never retried — old consumers survive new producers.
public struct EventEnvelope: Sendable, Equatable, Codable {
    public var id: UUID
    public var type: String
    public var version: Int
    public var occurredAt: Date
    /// The customer the event is about; nil for events about no tenant.
    public var tenantID: UUID?
    public var payload: JSONValue
    /// W3C trace context of the request that caused the event, when there was one.
    public var traceparent: String?

    public init(id: UUID = UUID(), type: String, version: Int, occurredAt: Date = Date(), tenantID: UUID?,
                payload: JSONValue, traceparent: String? = nil) {
        self.id = id
        self.type = type
        self.version = version
        self.occurredAt = occurredAt
        self.tenantID = tenantID
        self.payload = payload
        self.traceparent = traceparent
    }

    /// Wraps a typed event.
    public init<Event: DomainEvent>(_ event: Event, id: UUID = UUID(), occurredAt: Date = Date(), tenantID: UUID?,
                                    traceparent: String? = nil) throws {
        let payload = try EventCoding.decoder.decode(JSONValue.self, from: EventCoding.encoder.encode(event))
        self.init(id: id, type: Event.type, version: Event.version, occurredAt: occurredAt, tenantID: tenantID,
                  payload: payload, traceparent: traceparent)
    }

    /// The payload as `Event`; throws when the type does not match or the payload is malformed.
    public func decode<Event: DomainEvent>(_: Event.Type) throws -> Event {
        guard type == Event.type else { throw EventContractError.typeMismatch(expected: Event.type, found: type) }
        let json = try JSONSerialization.data(withJSONObject: payload.any, options: [.fragmentsAllowed])
        return try EventCoding.decoder.decode(Event.self, from: json)
    }

    /// The envelope's JSON (the wire format).
    public func encoded() throws -> Data { try EventCoding.encoder.encode(self) }

    /// Reads an envelope from the wire. Uses `JSONSerialization` (the hot path of every consumer);
    /// unknown fields are ignored.
    public static func decode(from data: Data) throws -> EventEnvelope {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EventContractError.malformed("an envelope is a JSON object")
        }
        guard let idText = object["id"] as? String, let id = UUID(uuidString: idText) else {
            throw EventContractError.malformed("id must be a UUID")
        }
        guard let type = object["type"] as? String, !type.isEmpty else { throw EventContractError.malformed("type is required") }
        guard let version = (object["version"] as? NSNumber)?.intValue else { throw EventContractError.malformed("version must be a number") }
        guard let occurred = object["occurred_at"] as? String, let occurredAt = EventCoding.date(from: occurred) else {
            throw EventContractError.malformed("occurred_at must be an ISO-8601 time")
        }
        var tenantID: UUID?
        if let tenant = object["tenant_id"] as? String {
            guard let parsed = UUID(uuidString: tenant) else { throw EventContractError.malformed("tenant_id must be a UUID") }
            tenantID = parsed
        }
        return EventEnvelope(
            id: id, type: type, version: version, occurredAt: occurredAt, tenantID: tenantID,
            payload: object["payload"].map(JSONValue.init(any:)) ?? .object([:]),
            traceparent: object["traceparent"] as? String)
    }

    enum CodingKeys: String, CodingKey {
        case id, type, version, payload, traceparent
        case occurredAt = "occurred_at"
        case tenantID = "tenant_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        type = try container.decode(String.self, forKey: .type)
        version = try container.decode(Int.self, forKey: .version)
        occurredAt = try container.decode(Date.self, forKey: .occurredAt)
        tenantID = try container.decodeIfPresent(UUID.self, forKey: .tenantID)
        payload = try container.decodeIfPresent(JSONValue.self, forKey: .payload) ?? .object([:])
        traceparent = try container.decodeIfPresent(String.self, forKey: .traceparent)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(version, forKey: .version)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(tenantID.map { $0.uuidString.lowercased() }, forKey: .tenantID)
        try container.encode(payload, forKey: .payload)
        try container.encodeIfPresent(traceparent, forKey: .traceparent)
    }
}

/// The JSON settings of the contract: sorted keys (stable bytes for golden files), ISO-8601 dates
/// with milliseconds, snake_case keys spelled out by each type.
public enum EventCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)))
        }
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO-8601 date: \(text)"))
            }
            return date
        }
        return decoder
    }

    /// Parses ISO-8601 with or without fractional seconds.
    public static func date(from text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) {
            return date
        }
        return try? Date(text, strategy: .iso8601)
    }
}

/// A contract violation found while reading an event.
public enum EventContractError: Error, Sendable, Equatable {
    case typeMismatch(expected: String, found: String)
    case malformed(String)
}
