/// A typed event of the contract. Its `type` and `version` name it on the wire; `stream` is where
/// its producer publishes it.
public protocol DomainEvent: Codable, Sendable, Equatable {
    static var type: String { get }
    static var version: Int { get }
    static var stream: EventStream { get }
}

/// The Redis streams of the system, and the consumer groups that read them. One place, so that a
/// producer and its consumers cannot disagree on a name.
public struct EventStream: Sendable, Hashable, CustomStringConvertible {
    public let key: String

    public init(key: String) { self.key = key }

    /// Billing's facts: entitlements, credits, account deletion.
    public static let billing = EventStream(key: "contexo:events:billing")
    /// Chat's facts: widget changes, and what visitors did (for customers' webhooks).
    public static let chat = EventStream(key: "contexo:events:chat")
    /// Ingest's facts: documents ready or failed.
    public static let ingest = EventStream(key: "contexo:events:ingest")
    /// Ingest's work queue: documents to extract, chunk and embed.
    public static let ingestJobs = EventStream(key: "contexo:jobs:ingest")

    public static let all: [EventStream] = [.billing, .chat, .ingest, .ingestJobs]

    /// Where entries that failed too often go, with their error.
    public var deadLetter: EventStream { EventStream(key: key + ":dead") }

    public var description: String { key }
}

/// The consumer groups: one per consuming service, shared by all its replicas.
public enum ConsumerGroup {
    public static func of(_ service: ServiceName) -> String { service.rawValue }
}
