import Contract
import Foundation

/// The parts of a Lemon Squeezy webhook body that Billing acts on (JSON:API envelope:
/// `meta` + `data`). Parsed only after the signature over the raw bytes was verified.
public struct WebhookPayload: Sendable, Equatable {
    /// `meta.event_name`: the signed name, never the unsigned `X-Event-Name` header.
    public var eventName: String
    /// `meta.custom_data`, values normalised to strings (Lemon Squeezy may echo numbers as strings).
    public var customData: [String: String]
    public var testMode: Bool
    /// `data.type`, e.g. `subscriptions`, `orders`, `subscription-invoices`.
    public var objectType: String
    /// `data.id`: a string in JSON:API.
    public var objectID: String
    public var attributes: [String: JSONValue]

    /// Why a verified body still cannot be used.
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ body: Data) throws(Malformed) -> WebhookPayload {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: body)
        } catch {
            throw Malformed(description: "the body is not JSON")
        }
        guard case .object(let root) = JSONValue(any: object),
              case .object(let meta)? = root["meta"], case .object(let data)? = root["data"] else {
            throw Malformed(description: "the body has no meta and data objects")
        }
        guard case .string(let eventName)? = meta["event_name"], !eventName.isEmpty else {
            throw Malformed(description: "meta.event_name is missing")
        }
        guard case .string(let type)? = data["type"], let id = data["id"].flatMap(Self.identifier) else {
            throw Malformed(description: "data.type or data.id is missing")
        }
        var custom: [String: String] = [:]
        if case .object(let values)? = meta["custom_data"] {
            for (key, value) in values {
                if let text = Self.identifier(value) { custom[key] = text }
            }
        }
        var attributes: [String: JSONValue] = [:]
        if case .object(let values)? = data["attributes"] { attributes = values }
        var testMode = false
        if case .bool(let flag)? = meta["test_mode"] { testMode = flag }
        return WebhookPayload(eventName: eventName, customData: custom, testMode: testMode,
                              objectType: type, objectID: id, attributes: attributes)
    }

    /// A string or integral number as a string (ids arrive as either).
    static func identifier(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .number(let number) where number.rounded() == number && abs(number) < 9.0e15: String(Int64(number))
        default: nil
        }
    }

    // MARK: Typed access to attributes

    public func integer(_ key: String) -> Int64? { Self.integer(attributes[key]) }

    public func string(_ key: String) -> String? {
        if case .string(let text)? = attributes[key] { return text }
        return nil
    }

    public func bool(_ key: String) -> Bool? {
        if case .bool(let flag)? = attributes[key] { return flag }
        return nil
    }

    public func date(_ key: String) -> Date? { string(key).flatMap(Self.parseDate) }

    public func object(_ key: String) -> [String: JSONValue]? {
        if case .object(let values)? = attributes[key] { return values }
        return nil
    }

    static func integer(_ value: JSONValue?) -> Int64? {
        switch value {
        case .number(let number)? where number.rounded() == number && abs(number) < 9.0e15: Int64(number)
        case .string(let text)?: Int64(text)
        default: nil
        }
    }

    /// Lemon Squeezy's timestamps: ISO 8601 with up to microseconds, e.g. `2024-05-01T10:00:00.000000Z`.
    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        // Microseconds: trim the fraction to milliseconds, which the formatter understands.
        guard let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !$0.isNumber && $0 != "." }) else {
            return nil
        }
        let fraction = text[text.index(after: dot)..<end]
        let trimmed = text[..<dot] + "." + fraction.prefix(3).padding(toLength: 3, withPad: "0", startingAt: 0) + text[end...]
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: String(trimmed))
    }
}
