import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// Test events whose effect is a row in `<schema>.probe_effects`, so tests can count how often
/// each event was applied. `probe.poison` always fails.
public enum ProbeEvents {
    public static let tick = "probe.tick"
    public static let poison = "probe.poison"

    /// Creates the effects table in a test database (as the superuser) and lets `role` write it.
    public static func createEffectsTable(in database: TestDatabase, schema: String = "chat") async throws {
        try await database.withConnection(database.adminURL) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: """
                CREATE TABLE \(schema).probe_effects (event_id uuid NOT NULL, consumer text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())
                """), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "GRANT SELECT, INSERT ON \(schema).probe_effects TO contexo_\(schema)"), logger: logger)
        }
    }

    public static func envelope(_ type: String = tick, sequence: Int) -> EventEnvelope {
        EventEnvelope(type: type, version: 1, tenantID: nil, payload: .object(["n": .number(Double(sequence))]))
    }

    /// Handlers that record the effect, after `delay` per event (to make "mid-batch" observable).
    public static func handlers(schema: String = "chat", consumer: String, delay: Duration = .zero) -> [String: EventHandler] {
        let record: EventHandler = { envelope, connection, logger in
            if delay > .zero { try await Task.sleep(for: delay) }
            var bindings = PostgresBindings()
            bindings.append(envelope.id)
            bindings.append(consumer)
            try await connection.query(
                PostgresQuery(unsafeSQL: "INSERT INTO \(schema).probe_effects (event_id, consumer) VALUES ($1, $2)", binds: bindings),
                logger: logger)
        }
        let fail: EventHandler = { envelope, _, _ in throw ProbeFailure(id: envelope.id) }
        return [tick: record, poison: fail]
    }

    /// (applied rows, distinct event ids) in the effects table.
    public static func effectCounts(in database: TestDatabase, schema: String = "chat") async throws -> (Int, Int) {
        try await database.withConnection(database.adminURL) { connection in
            let row = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*)::int, count(DISTINCT event_id)::int FROM \(schema).probe_effects"),
                logger: logger).collect().first
            return try row?.decode((Int, Int).self) ?? (0, 0)
        }
    }

    /// Effects applied by one consumer.
    public static func effects(by consumer: String, in database: TestDatabase, schema: String = "chat") async throws -> Int {
        try await database.withConnection(database.adminURL) { connection in
            var bindings = PostgresBindings()
            bindings.append(consumer)
            return try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(schema).probe_effects WHERE consumer = $1", binds: bindings),
                logger: logger).collect().first?.decode(Int.self) ?? 0
        }
    }

    static let logger = Logger(label: "test.probe")
}

/// The error a poison event's handler throws.
public struct ProbeFailure: Error, CustomStringConvertible {
    public let id: UUID
    public var description: String { "probe poison \(id) cannot be applied" }
}
