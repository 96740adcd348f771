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
        return try EventCoding.decoder.decode(Event.self, from: EventCoding.encoder.encode(payload))
    }

    /// The envelope's JSON (the wire format).
    public func encoded() throws -> Data { try EventCoding.encoder.encode(self) }

    public static func decode(from data: Data) throws -> EventEnvelope {
        try EventCoding.decoder.decode(EventEnvelope.self, from: data)
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
            if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) {
                return date
            }
            if let date = try? Date(text, strategy: .iso8601) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO-8601 date: \(text)"))
        }
        return decoder
    }
}

/// A contract violation found while reading an event.
public enum EventContractError: Error, Sendable, Equatable {
    case typeMismatch(expected: String, found: String)
}
