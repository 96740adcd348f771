import Contract
import Foundation

/// The JSON a webhook delivers: `{"id", "type", "created_at", "data"}`, with keys sorted. `id` is
/// the event's id, also sent as the `Idempotency-Key` header: the same event reaches an endpoint
/// with the same id however often it is retried.
enum WebhookBody {
    static func encode(id: UUID, type: String, occurredAt: Date, data: JSONValue) throws -> String {
        let body = JSONValue.object([
            "id": .string(id.uuidString.lowercased()),
            "type": .string(type),
            "created_at": .string(occurredAt.formatted(.iso8601)),
            "data": data,
        ])
        return String(decoding: try EventCoding.encoder.encode(body), as: UTF8.self)
    }

    /// Any `Encodable` as a JSON value (the API's own shapes reused inside bodies).
    static func value(_ encodable: some Encodable) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return try JSONDecoder().decode(JSONValue.self, from: encoder.encode(encodable))
    }
}
