import Contract
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// S9.3: operational records are kept for a bounded time. Once an hour (and at start-up) it
/// deletes what is older than the retention: the service's inbox rows (event ids already applied),
/// the entries of the dead-letter streams it writes, and any service-specific records (Billing's
/// webhook receipts and spent checkout nonces). Each purge runs under a deadline and a failure
/// waits for the next round.
public final class RecordRetention: Service, Sendable {
    /// A service-specific purge: deletes what is older than the cutoff, returns counts by name.
    public typealias Purge = @Sendable (PostgresConnection, Date, Logger) async throws -> [String: Int]

    private let schema: String
    private let postgres: PostgresClient
    private let redis: RedisClient
    private let deadLetters: [EventStream]
    private let purges: [Purge]
    private let retention: Duration
    private let interval: Duration
    private let logger: Logger

    public init(schema: String, postgres: PostgresClient, redis: RedisClient, deadLetters: [EventStream],
                purges: [Purge] = [], retention: Duration, interval: Duration = .seconds(3600), logger: Logger) {
        precondition(schema.allSatisfy { $0.isLetter || $0 == "_" })
        self.schema = schema
        self.postgres = postgres
        self.redis = redis
        self.deadLetters = deadLetters
        self.purges = purges
        self.retention = retention
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        // Replicas do not all purge at once; a shutdown ends every wait at once.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(Int.random(in: 5...60))) }
        await repeatUntilShutdown(every: interval, logger: logger, failure: "record purge failed; trying again next round") {
            let removed = try await purge()
            if removed.values.contains(where: { $0 > 0 }) {
                logger.info("expired records purged", metadata: removed.mapValues { .stringConvertible($0) })
            }
        }
    }

    /// Deletes everything older than the retention as of `now`; returns how much went, by record kind.
    @discardableResult
    public func purge(now: Date = Date()) async throws -> [String: Int] {
        let cutoff = now.addingTimeInterval(-Double(retention.components.seconds))
        let schema = self.schema, logger = self.logger, purges = self.purges
        var removed = try await postgres.watchedTransaction(timeout: .seconds(60), logger: logger) { connection in
            var counts: [String: Int] = [:]
            counts["inbox"] = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    WITH gone AS (DELETE FROM \(schema).inbox WHERE processed_at < $1 RETURNING 1) SELECT count(*)::int FROM gone
                    """, binds: { var binds = PostgresBindings(); binds.append(cutoff); return binds }()),
                logger: logger).collect().first?.decode(Int.self) ?? 0
            for purge in purges {
                counts.merge(try await purge(connection, cutoff, logger)) { $0 + $1 }
            }
            // The audit trail (S10) is kept as long as the rest, never less than a day.
            if cutoff < now.addingTimeInterval(-86_400) {
                counts["audit_trail"] = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT \(schema).purge_audit_trail($1)",
                                  binds: { var binds = PostgresBindings(); binds.append(cutoff); return binds }()),
                    logger: logger).collect().first?.decode(Int.self) ?? 0
            }
            // Which event tickets were used: useless once the tickets have expired (8 days).
            counts["event_tickets"] = try await connection.query("SELECT contexo_tickets.purge_admissions()", logger: logger)
                .collect().first?.decode(Int.self) ?? 0
            return counts
        }
        // Stream ids start with the entry's time in milliseconds: MINID drops every older entry.
        let minimum = String(Int64(cutoff.timeIntervalSince1970 * 1000)) + "-0"
        for stream in deadLetters {
            let trimmed = try await redis.send("XTRIM", stream.deadLetter.key, "MINID", minimum).integer ?? 0
            removed["dead_letters", default: 0] += Int(trimmed)
        }
        return removed
    }
}
