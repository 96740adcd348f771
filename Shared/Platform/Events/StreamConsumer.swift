import Contract
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Applies one event inside the consumer's Postgres transaction. Set the tenant with
/// `connection.setTenant(_:logger:)` before touching tenant tables: it presents the ticket that
/// Postgres minted for the event (``TenantTicket/current`` while the handler runs), for the event's
/// own tenant only. Throwing rolls the effect back and the event is retried (then dead-lettered).
public typealias EventHandler = @Sendable (EventEnvelope, PostgresConnection, Logger) async throws -> Void

/// Consumes one stream as one member of a consumer group, applying each event exactly once.
///
/// - Effects and the event id go into `<schema>.inbox` in one transaction: a duplicate delivery has
///   no second effect. `XACK` follows the commit.
/// - Blocking reads (`XREADGROUP … BLOCK`) use a dedicated connection on its own thread.
/// - Entries left pending by a crashed replica are taken over with `XAUTOCLAIM` once idle long enough.
/// - An entry that fails `maximumDeliveries` times, or cannot be read at all, is copied with its error
///   to the dead-letter stream and acknowledged, so the stream keeps flowing.
/// - An entry that is not an event its owner signed (``EventVerifier``) is dead-lettered at once with
///   the reason, logged and counted (`contexo_events_rejected_total`); nothing applies it.
/// - An event of an unknown type is acknowledged and logged.
public final class StreamConsumer: Service, Sendable {
    public struct Configuration: Sendable {
        public var stream: EventStream
        public var group: String
        /// Unique and stable per replica (a restart then drains its own pending entries first).
        public var consumer: String
        public var batchSize = 128
        public var block: Duration = .milliseconds(1000)
        /// How long an entry may stay pending before another replica claims it.
        public var claimIdle: Duration = .seconds(30)
        public var claimInterval: Duration = .seconds(5)
        public var maximumDeliveries = 5
        /// How long one batch's transaction may take before its connection is closed and the batch
        /// retried (a handler's time included).
        public var transactionTimeout: Duration = .seconds(30)
        /// When set, a group made for the first time skips entries older than this before now
        /// (stream ids are times), instead of starting at the stream's first entry: for a consumer
        /// added to a stream whose history means nothing to it (the webhook fan-out: no customer
        /// could subscribe to events from before it existed). Recent entries are kept, so nothing
        /// published while the consumer was starting is lost. Once made, a group keeps its place.
        public var skipsHistoryOlderThan: Duration?
        /// Types of the contract this consumer knowingly does not apply (another consumer's business
        /// on a shared stream): acknowledged like unknown types, logged at debug level only.
        public var ignoredTypes: Set<String> = []

        public init(stream: EventStream, group: String, consumer: String) {
            self.stream = stream
            self.group = group
            self.consumer = consumer
        }
    }

    private let configuration: Configuration
    private let inboxSchema: String
    private let postgres: PostgresClient
    private let redis: RedisClient
    private let handlers: [String: EventHandler]
    private let verifier: EventVerifier
    private let metrics: EventMetrics
    private let logger: Logger

    public init(configuration: Configuration, inboxSchema: String, postgres: PostgresClient, redis: RedisClient,
                handlers: [String: EventHandler], verifier: EventVerifier, metrics: EventMetrics, logger: Logger) {
        precondition(inboxSchema.allSatisfy { $0.isLetter || $0 == "_" })
        self.configuration = configuration
        self.inboxSchema = inboxSchema
        self.postgres = postgres
        self.redis = redis
        self.handlers = handlers
        self.verifier = verifier
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "stream"] = .string(configuration.stream.key)
        logger[metadataKey: "consumer"] = .string(configuration.consumer)
        self.logger = logger
    }

    private var stream: String { configuration.stream.key }
    private var group: String { configuration.group }

    public func run() async throws {
        let reader = redis.makeDedicatedConnection(commandTimeout: configuration.block + .seconds(5))
        var backoff = Backoff()
        var groupReady = false
        var drainingOwnPending = true
        var claimCursor = "0-0"
        var lastClaim = ContinuousClock.now
        let blockMilliseconds = String(configuration.block.milliseconds)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if !groupReady {
                    try await createGroup()
                    groupReady = true
                }
                let entries: [StreamEntry]
                if drainingOwnPending {
                    // After a restart, our own unacknowledged entries come first.
                    entries = try StreamEntry.fromRead(try await redis.send([
                        "XREADGROUP", "GROUP", group, configuration.consumer, "COUNT", String(configuration.batchSize),
                        "STREAMS", stream, "0"]))
                    if entries.isEmpty { drainingOwnPending = false }
                } else {
                    entries = try StreamEntry.fromRead(try await reader.send([
                        "XREADGROUP", "GROUP", group, configuration.consumer, "COUNT", String(configuration.batchSize),
                        "BLOCK", blockMilliseconds, "STREAMS", stream, ">"]))
                }
                try await process(entries)
                if ContinuousClock.now - lastClaim >= configuration.claimInterval {
                    lastClaim = ContinuousClock.now
                    claimCursor = try await claimStale(from: claimCursor)
                    try await reportLag()
                }
                backoff.reset()
            } catch let error as RedisError where error.description.contains("NOGROUP") {
                // The stream or group vanished (Redis lost its data): recreate and carry on.
                logger.warning("consumer group missing; recreating")
                groupReady = false
            } catch {
                let delay = backoff.next()
                logger.warning("consumer failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
        await reader.close()
    }

    private func createGroup() async throws {
        do {
            // From the stream's start: events published before this group existed are not lost.
            let start = Self.groupStart(skipping: configuration.skipsHistoryOlderThan, now: Date())
            try await redis.send("XGROUP", "CREATE", stream, group, start, "MKSTREAM")
        } catch .server(let message) where message.hasPrefix("BUSYGROUP") {
            return
        }
    }

    /// Where a new group starts: the first entry, or the first of the last `skipping` of time.
    static func groupStart(skipping: Duration?, now: Date) -> String {
        guard let skipping else { return "0" }
        let milliseconds = Int64(now.timeIntervalSince1970 * 1000) - skipping.milliseconds
        return String(max(0, milliseconds)) + "-0"
    }

    /// Takes over entries idle longer than `claimIdle` (a crashed or stuck replica's), then processes them.
    private func claimStale(from cursor: String) async throws -> String {
        let idle = String(configuration.claimIdle.milliseconds)
        let result = try AutoClaimResult(try await redis.send([
            "XAUTOCLAIM", stream, group, configuration.consumer, idle, cursor, "COUNT", String(configuration.batchSize)]))
        for id in result.deleted {
            logger.warning("pending entry no longer in the stream (trimmed)", metadata: ["entry": "\(id)"])
        }
        if !result.entries.isEmpty {
            logger.info("claimed stale entries", metadata: ["count": "\(result.entries.count)"])
            try await process(result.entries)
        }
        return result.cursor
    }

    private func reportLag() async throws {
        guard let groups = try await redis.send("XINFO", "GROUPS", stream).array else { return }
        for info in groups {
            guard let flat = info.array else { continue }
            var fields: [String: RedisReply] = [:]
            var index = 0
            while index + 1 < flat.count {
                if let key = flat[index].string { fields[key] = flat[index + 1] }
                index += 2
            }
            guard fields["name"]?.string == group else { continue }
            metrics.consumerLag(stream: stream, group: group, lag: Int(fields["lag"]?.integer ?? 0),
                                pending: Int(fields["pending"]?.integer ?? 0))
        }
    }

    // MARK: Applying entries

    private enum Decoded {
        case event(StreamEntry, EventEnvelope, EventHandler)
        case unknownType(StreamEntry, EventEnvelope)
        case rejected(StreamEntry, EventRejection)
    }

    private func decode(_ entry: StreamEntry) -> Decoded {
        switch verifier.verify(entry) {
        case .failure(let rejection):
            return .rejected(entry, rejection)
        case .success(let envelope):
            guard let handler = handlers[envelope.type] else { return .unknownType(entry, envelope) }
            return .event(entry, envelope, handler)
        }
    }

    /// Applies a batch: first all of it in one transaction (the common case), and if any event
    /// fails, each event in a transaction of its own so one bad event cannot hold the rest back.
    private func process(_ entries: [StreamEntry]) async throws {
        guard !entries.isEmpty else { return }
        var acknowledged: [String] = []
        var events: [(StreamEntry, EventEnvelope, EventHandler)] = []
        for entry in entries {
            switch decode(entry) {
            case .event(let entry, let envelope, let handler):
                events.append((entry, envelope, handler))
            case .unknownType(let entry, let envelope):
                let level: Logger.Level = configuration.ignoredTypes.contains(envelope.type) ? .debug : .notice
                logger.log(level: level, "ignoring event of unknown type", metadata: ["type": "\(envelope.type)", "event_id": "\(envelope.id)"])
                metrics.consumed(stream: stream, group: group, type: envelope.type, outcome: "ignored")
                acknowledged.append(entry.id)
            case .rejected(let entry, let rejection):
                metrics.rejected(stream: stream, group: group, reason: rejection.code)
                try await deadLetter(entry, error: rejection.description, deliveries: 0)
            }
        }
        if !events.isEmpty {
            do {
                let outcomes = try await applyThroughOutages(events)
                acknowledged.append(contentsOf: events.map { $0.0.id })
                record(outcomes)
            } catch where !TransientFailure.isTransient(error) {
                for event in events {
                    do {
                        record(try await applyThroughOutages([event]))
                        acknowledged.append(event.0.id)
                    } catch where !TransientFailure.isTransient(error) {
                        try await failed(event.0, envelope: event.1, error: error)
                    } catch {
                        // Shutting down mid-outage: acknowledge what committed; the rest stays pending.
                        if !acknowledged.isEmpty { _ = try? await redis.send(["XACK", stream, group] + acknowledged) }
                        throw error
                    }
                }
            }
        }
        if !acknowledged.isEmpty {
            try await redis.send(["XACK", stream, group] + acknowledged)
        }
    }

    /// Applies the events, waiting out a database outage with the batch in hand: re-reading it from
    /// Redis would count a delivery per attempt and dead-letter good events. Gives up only when the
    /// service shuts down (the entries stay pending and are drained at the next start).
    private func applyThroughOutages(
        _ events: [(StreamEntry, EventEnvelope, EventHandler)]
    ) async throws -> [(String, String)] {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        while true {
            do {
                return try await apply(events)
            } catch where TransientFailure.isTransient(error) && !Task.isShuttingDownGracefully && !Task.isCancelled {
                let delay = backoff.next()
                logger.warning("database unavailable; retrying the batch", metadata: [
                    "events": "\(events.count)", "error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Records the event ids in the inbox and runs the handlers of the new ones, in one transaction.
    /// Returns each event's outcome: applied, or duplicate (already in the inbox).
    private func apply(_ events: [(StreamEntry, EventEnvelope, EventHandler)]) async throws -> [(String, String)] {
        let schema = inboxSchema, group = self.group, logger = self.logger
        let ids = events.map { $0.1.id }
        let entryIDs = events.map { $0.0.id }
        return try await postgres.watchedTransaction(timeout: configuration.transactionTimeout, logger: logger) { connection in
            var bindings = PostgresBindings()
            bindings.append(group)
            bindings.append(ids)
            bindings.append(entryIDs)
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    INSERT INTO \(schema).inbox (consumer, event_id, stream_entry)
                    SELECT $1, * FROM unnest($2::uuid[], $3::text[])
                    ON CONFLICT DO NOTHING RETURNING event_id
                    """, binds: bindings), logger: logger)
            var fresh = Set<UUID>()
            for try await id in rows.decode(UUID.self) { fresh.insert(id) }
            var outcomes: [(String, String)] = []
            for (entry, envelope, handler) in events {
                // remove, not contains: the same event twice in one batch (a relay re-published it
                // after Redis dropped the connection mid-pipeline) is inserted once and applied once.
                if fresh.remove(envelope.id) != nil {
                    var eventLogger = logger
                    eventLogger[metadataKey: "event_id"] = .string(envelope.id.uuidString.lowercased())
                    let ticket = entry.fields[SignedEntryField.tenantTicket].flatMap { TenantTicket(String(decoding: $0, as: UTF8.self)) }
                    try await TenantTicket.$current.withValue(ticket) {
                        try await handler(envelope, connection, eventLogger)
                    }
                    outcomes.append((envelope.type, "applied"))
                } else {
                    outcomes.append((envelope.type, "duplicate"))
                }
            }
            return outcomes
        }
    }

    private func record(_ outcomes: [(String, String)]) {
        for (type, outcome) in outcomes { metrics.consumed(stream: stream, group: group, type: type, outcome: outcome) }
    }

    /// A handler failed: retry later (the entry stays pending), or dead-letter it after too many deliveries.
    private func failed(_ entry: StreamEntry, envelope: EventEnvelope, error: any Error) async throws {
        let detail = (error as? PostgresTransactionError)?.closureError.map { "\($0)" } ?? "\(error)"
        if error is TenantTicketError || (error as? PostgresTransactionError)?.closureError is TenantTicketError {
            // No ticket, or one Postgres refused: no retry can make it valid. Like a bad signature,
            // it is dead-lettered at once with the reason.
            metrics.rejected(stream: stream, group: group, reason: "tenant_ticket")
            try await deadLetter(entry, error: detail, deliveries: 0)
            return
        }
        let pending = try await redis.send(["XPENDING", stream, group, entry.id, entry.id, "1"])
        let deliveries = Int(pending.array?.first?.array?.last?.integer ?? 1)
        if deliveries >= configuration.maximumDeliveries {
            try await deadLetter(entry, error: detail, deliveries: deliveries)
            try await redis.send(["XACK", stream, group, entry.id])
        } else {
            logger.warning("event handler failed; will retry", metadata: [
                "event_id": "\(envelope.id)", "type": "\(envelope.type)", "deliveries": "\(deliveries)", "error": "\(detail)"])
            metrics.retried(stream: stream, group: group)
        }
    }

    private func deadLetter(_ entry: StreamEntry, error: String, deliveries: Int) async throws {
        var command: [[UInt8]] = [Array("XADD".utf8), Array(configuration.stream.deadLetter.key.utf8), Array("*".utf8),
                                  Array("original_id".utf8), Array(entry.id.utf8),
                                  Array("group".utf8), Array(group.utf8),
                                  Array("deliveries".utf8), Array(String(deliveries).utf8),
                                  Array("error".utf8), Array(String(error.prefix(2000)).utf8)]
        for (name, value) in entry.fields.sorted(by: { $0.key < $1.key }) {
            command.append(Array(name.utf8))
            command.append(value)
        }
        try await redis.send(command)
        if deliveries == 0 { try await redis.send(["XACK", stream, group, entry.id]) }
        logger.error("event dead-lettered", metadata: ["entry": "\(entry.id)", "error": "\(error)"])
        metrics.deadLettered(stream: stream, group: group)
    }
}
