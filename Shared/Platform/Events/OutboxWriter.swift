import Contract
import Foundation
import Logging
import PostgresNIO

/// Writes events into a service's transactional outbox (`<schema>.outbox`), in the caller's
/// transaction: the state change and the event announcing it commit together or not at all.
/// The ``OutboxRelay`` publishes them to Redis afterwards.
public struct OutboxWriter: Sendable {
    public let schema: String

    /// - Parameter schema: the owning service's schema (`chat`, `ingest`, `billing`).
    public init(schema: String) {
        precondition(schema.allSatisfy { $0.isLetter || $0 == "_" }, "schema must be a plain identifier")
        self.schema = schema
    }

    public init(service: ServiceName) { self.init(schema: service.rawValue) }

    /// Adds `event` to the outbox on `connection`, which must be inside the caller's transaction.
    @discardableResult
    public func enqueue<Event: DomainEvent>(
        _ event: Event, tenant: UUID?, traceparent: String? = nil, on connection: PostgresConnection, logger: Logger
    ) async throws -> EventEnvelope {
        let envelope = try EventEnvelope(event, tenantID: tenant, traceparent: traceparent)
        try await enqueue(envelope, stream: Event.stream, on: connection, logger: logger)
        return envelope
    }

    /// Adds a ready-made envelope.
    public func enqueue(_ envelope: EventEnvelope, stream: EventStream, on connection: PostgresConnection, logger: Logger) async throws {
        let json = String(decoding: try envelope.encoded(), as: UTF8.self)
        try await connection.query(
            PostgresQuery(unsafeSQL: "INSERT INTO \(schema).outbox (event_id, stream, envelope) VALUES ($1, $2, $3)",
                          binds: try Self.binds(envelope.id, stream.key, json)),
            logger: logger)
    }

    /// Adds many envelopes in one statement (bulk producers, benchmarks).
    public func enqueue(batch: [(EventEnvelope, EventStream)], on connection: PostgresConnection, logger: Logger) async throws {
        guard !batch.isEmpty else { return }
        var ids: [UUID] = [], streams: [String] = [], bodies: [String] = []
        for (envelope, stream) in batch {
            ids.append(envelope.id)
            streams.append(stream.key)
            bodies.append(String(decoding: try envelope.encoded(), as: UTF8.self))
        }
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                INSERT INTO \(schema).outbox (event_id, stream, envelope)
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])
                """,
                binds: try Self.binds(ids, streams, bodies)),
            logger: logger)
    }

    private static func binds(_ values: any PostgresEncodable...) throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values { try bindings.append(value, context: .default) }
        return bindings
    }
}
