import Contract
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Publishes a service's outbox to Redis streams, in order, and marks the rows published.
///
/// One relay publishes at a time per schema (a transaction-scoped advisory lock), so replicas never
/// reorder events. A batch is `XADD`ed in one pipelined round trip inside the transaction that marks
/// it; if Redis is down nothing is marked and the rows wait — Redis being down delays events, it
/// never loses them. A crash between `XADD` and `COMMIT` publishes a batch twice; consumers drop the
/// duplicates by event id. New rows wake the relay through `LISTEN/NOTIFY`; it also polls.
///
/// Every entry is signed here, by the only code that holds the service's private key: the entry
/// carries the envelope's exact bytes, the key id and the Ed25519 signature over those bytes, and
/// consumers apply nothing else (see ``EventVerifier``).
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        public var batchSize = 500
        /// The approximate cap of each stream (`XADD … MAXLEN ~`); keep it far above the worst backlog.
        public var maximumStreamLength = 1_000_000
        public var pollInterval: Duration = .milliseconds(500)
        /// Published rows are kept this long (for inspection), then deleted.
        public var retention: Duration = .seconds(3600)
        /// How long one batch (its rows read, sent to Redis and marked) may take before its
        /// connection is closed and the batch retried; normally milliseconds.
        public var transactionTimeout: Duration = .seconds(10)

        public init() {}
    }

    private let writer: OutboxWriter
    private let signer: EventSigningKey
    private let postgres: PostgresClient
    private let redis: RedisClient
    private let metrics: EventMetrics
    private let configuration: Configuration
    private let logger: Logger
    private let doorbell = Doorbell()

    public init(schema: String, signer: EventSigningKey, postgres: PostgresClient, redis: RedisClient, metrics: EventMetrics,
                configuration: Configuration = .init(), logger: Logger) {
        self.writer = OutboxWriter(schema: schema)
        self.signer = signer
        self.postgres = postgres
        self.redis = redis
        self.metrics = metrics
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "outbox"] = .string(schema)
        self.logger = logger
    }

    private var schema: String { writer.schema }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listenForNewRows() }
            group.addTask { await self.publishLoop() }
            await group.next()
            group.cancelAll()
        }
    }

    private func publishLoop() async {
        var backoff = Backoff()
        var lastBacklogReport = ContinuousClock.now - .seconds(3600)
        var lastPrune = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let published = try await publishBatch()
                backoff.reset()
                if ContinuousClock.now - lastBacklogReport > .seconds(1) {
                    lastBacklogReport = ContinuousClock.now
                    try await reportBacklog()
                }
                if ContinuousClock.now - lastPrune > .seconds(60) {
                    lastPrune = ContinuousClock.now
                    try await prunePublished()
                }
                if published < configuration.batchSize {
                    await doorbell.wait(upTo: configuration.pollInterval)
                }
            } catch {
                let delay = backoff.next()
                logger.warning("outbox publish failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
        // One last drain so rows committed before shutdown go out now rather than at next start.
        _ = try? await publishBatch()
    }

    /// Publishes up to one batch; returns how many rows went out.
    @discardableResult
    public func publishBatch() async throws -> Int {
        let batchSize = configuration.batchSize, schema = self.schema, logger = self.logger
        let maximum = String(configuration.maximumStreamLength)
        let redis = self.redis, signer = self.signer
        let keyID = Array(signer.keyID.utf8)
        let published: [String: Int] = try await postgres.watchedTransaction(
            timeout: configuration.transactionTimeout, logger: logger
        ) { connection in
            // Marking rows published need not wait for a WAL flush: if Postgres loses this commit, the
            // rows are published again and consumers drop the duplicates by event id. Saves an fsync
            // on every event's path.
            try await connection.query("SET LOCAL synchronous_commit TO off", logger: logger)
            let locked = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(hashtext(\("contexo.outbox." + schema)))", logger: logger
            ).collect().first?.decode(Bool.self) ?? false
            guard locked else { return [:] }
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    SELECT seq, stream, envelope, tenant_ticket FROM \(schema).outbox
                    WHERE published_at IS NULL ORDER BY seq LIMIT \(batchSize)
                    """), logger: logger)
            var sequence: [Int64] = []
            var commands: [[[UInt8]]] = []
            var perStream: [String: Int] = [:]
            for try await (seq, stream, envelope, ticket) in rows.decode((Int64, String, String, String?).self) {
                sequence.append(seq)
                perStream[stream, default: 0] += 1
                let bytes = Array(envelope.utf8)
                var command = [Array("XADD".utf8), Array(stream.utf8), Array("MAXLEN".utf8), Array("~".utf8),
                               Array(maximum.utf8), Array("*".utf8),
                               Array(SignedEntryField.envelope.utf8), bytes,
                               Array(SignedEntryField.keyID.utf8), keyID,
                               Array(SignedEntryField.signature.utf8), Array(signer.signature(for: bytes).utf8)]
                if let ticket { command += [Array(SignedEntryField.tenantTicket.utf8), Array(ticket.utf8)] }
                commands.append(command)
            }
            guard !commands.isEmpty else { return [:] }
            for reply in try await redis.pipeline(commands) { _ = try reply.get() }
            try await connection.query(
                PostgresQuery(unsafeSQL: "UPDATE \(schema).outbox SET published_at = clock_timestamp() WHERE seq = ANY($1)",
                              binds: { var bindings = PostgresBindings(); bindings.append(sequence); return bindings }()),
                logger: logger)
            return perStream
        }
        for (stream, count) in published { metrics.published(stream: stream, count: count) }
        return published.values.reduce(0, +)
    }

    /// Deletes published rows older than the retention.
    private func prunePublished() async throws {
        let retention = Int(configuration.retention.components.seconds)
        let postgres = self.postgres, schema = self.schema, logger = self.logger
        // Under a deadline like the batches: a query that never returns must not stop the relay.
        _ = try await withDeadline(configuration.transactionTimeout) {
            try await postgres.query(
                PostgresQuery(unsafeSQL: """
                    DELETE FROM \(schema).outbox
                    WHERE published_at < now() - make_interval(secs => \(retention))
                    """), logger: logger)
        }
    }

    private func reportBacklog() async throws {
        let postgres = self.postgres, schema = self.schema, logger = self.logger
        let backlog = try await withDeadline(configuration.transactionTimeout) {
            try await postgres.query(
                PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(schema).outbox WHERE published_at IS NULL"),
                logger: logger
            ).collect().first?.decode(Int.self) ?? 0
        }
        metrics.outboxBacklog(schema: schema, count: backlog)
    }

    /// Rings the doorbell on every `NOTIFY contexo_outbox_<schema>` (sent by the outbox trigger).
    private func listenForNewRows() async {
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
        let channel = "contexo_outbox_" + schema
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await postgres.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        backoff.reset()
                        self.doorbell.ring()  // rows may have arrived while we were not listening
                        for try await _ in notifications.cancelOnGracefulShutdown() { self.doorbell.ring() }
                    }
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                logger.debug("outbox listener reconnecting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
    }
}
