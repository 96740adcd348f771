import Contract
import Foundation
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// Postgres crashes (every backend killed, no checkpoint) and comes back while events are being
/// written, relayed and consumed by two service replicas in processes of their own: every committed
/// event is still applied exactly once, and neither replica dies or stalls.
@Suite(.serialized, .timeLimit(.minutes(5))) struct PostgresRestartTests {
    static let logger = Logger(label: "test.pg-restart")

    @Test func eventsSurviveAPostgresCrashAndRestartExactlyOnce() async throws {
        let server = try PostgresServerProcess()
        do {
            try await server.start()
            try await run(server)
        } catch {
            await server.destroy()
            throw error
        }
        await server.destroy()
    }

    private func run(_ server: PostgresServerProcess) async throws {
        try await Self.inTime(server.adminURL) { connection in
            try await connection.query("""
                CREATE TABLE chat.probe_effects (event_id uuid NOT NULL, consumer text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())
                """, logger: Self.logger)
            try await connection.query("GRANT SELECT, INSERT ON chat.probe_effects TO contexo_chat", logger: Self.logger)
        }
        let stack = try TestStack.current()
        let stream = EventStream(key: "contexo:test:\(UUID().uuidString.lowercased())")
        let url = server.url(role: "contexo_chat")
        // Two replicas, each with the relay and a consumer in the same group, as Chat runs them.
        let replicas = try ["a", "b"].map { name in
            try ServiceProcess(binary: "StreamProbe", port: 0, environment: [
                "PROBE_DATABASE_URL": "postgres://\(url.username):\(url.password!)@\(url.host):\(url.port)/\(url.database)",
                "PROBE_REDIS_URL": stack.redisURL, "PROBE_STREAM": stream.key, "PROBE_GROUP": "chat",
                "PROBE_CONSUMER": name, "PROBE_BATCH": "20", "PROBE_CLAIM_IDLE_MS": "5000", "PROBE_RELAY": "1",
            ])
        }
        defer { replicas.forEach { $0.stop() } }
        let total = 1_500, batch = 50

        // The service side: 30 transactions of 50 events, ~100 ms apart. A transaction that fails
        // because Postgres is down is retried until it commits (whether a commit whose answer was
        // lost happened is read back from the outbox), as a caller retrying a 503 would.
        async let published: Int = {
            var retries = 0
            for start in stride(from: 0, to: total, by: batch) {
                let envelopes = (start..<start + batch).map { ProbeEvents.envelope(sequence: $0) }
                retries += try await Self.commit(envelopes, stream: stream, url: url)
                try await Task.sleep(for: .milliseconds(100))
            }
            return retries
        }()
        try await Task.sleep(for: .milliseconds(1200))
        try await server.crash()
        try await Task.sleep(for: .seconds(2))
        try await server.restart()
        let retries = try await published
        #expect(retries > 0, "the outage should have failed some writes")

        let deadline = ContinuousClock.now + .seconds(90)
        var counts = (0, 0)
        while ContinuousClock.now < deadline {
            counts = try await Self.effectCounts(server)
            if counts.0 >= total { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let logs = replicas.map { "\($0.output().suffix(1500))" }.joined(separator: "\n---\n")
        #expect(counts.0 == total && counts.1 == total, "applied \(counts.0) (\(counts.1) distinct) of \(total):\n\(logs)")
        let running = replicas.map(\.isRunning)
        #expect(running == [true, true], "a replica died:\n\(logs)")
        let unpublished = try await Self.inTime(server.adminURL) { connection in
            try await connection.query("SELECT count(*)::int FROM chat.outbox WHERE published_at IS NULL", logger: Self.logger)
                .collect().first?.decode(Int.self) ?? -1
        }
        #expect(unpublished == 0)
        #expect(server.log().contains("database system was interrupted") || server.log().contains("redo"),
                "the restart should have replayed the WAL")
    }

    /// `TestDatabase.withConnection` that gives up after 20 s. Across the crash a connection attempt
    /// or its query once waited forever (the runner idle with no socket open, so nothing would ever
    /// answer it); a deadline turns that into a failed attempt the caller retries.
    static func inTime<T: Sendable>(
        _ url: DatabaseURL, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withDeadline(.seconds(20)) { try await TestDatabase.withConnection(url, body) }
    }

    /// Writes `envelopes` to chat.outbox in one transaction, retrying until it is committed;
    /// returns how many attempts failed.
    static func commit(_ envelopes: [EventEnvelope], stream: EventStream, url: DatabaseURL) async throws -> Int {
        let writer = OutboxWriter(schema: "chat")
        var failures = 0
        while true {
            do {
                try await Self.inTime(url) { connection in
                    try await connection.query("BEGIN", logger: logger)
                    try await writer.enqueue(batch: envelopes.map { ($0, stream) }, on: connection, logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                }
                return failures
            } catch {
                failures += 1
                guard failures < 200 else { throw error }
                try await Task.sleep(for: .milliseconds(100))
                // A COMMIT whose answer was lost may have happened: the outbox knows.
                if let stored = try? await storedCount(envelopes, url: url), stored == envelopes.count { return failures }
            }
        }
    }

    static func storedCount(_ envelopes: [EventEnvelope], url: DatabaseURL) async throws -> Int {
        try await Self.inTime(url) { connection in
            try await connection.query("SELECT count(*)::int FROM chat.outbox WHERE event_id = ANY(\(envelopes.map(\.id)))",
                                       logger: logger).collect().first?.decode(Int.self) ?? 0
        }
    }

    static func effectCounts(_ server: PostgresServerProcess) async throws -> (Int, Int) {
        do {
            return try await Self.inTime(server.adminURL) { connection in
                try await connection.query("SELECT count(*)::int, count(DISTINCT event_id)::int FROM chat.probe_effects",
                                           logger: logger).collect().first?.decode((Int, Int).self) ?? (0, 0)
            }
        } catch {
            return (0, 0)
        }
    }
}
