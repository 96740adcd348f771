import Contract
import Foundation
import Logging
import Platform
import PostgresNIO
import ServiceLifecycle
import TestSupport

/// A test database with the probe effects table, a relay publishing `chat.outbox`, and helpers to
/// write events and wait for their effects.
struct EventHarness: Sendable {
    let database: TestDatabase
    let stream: EventStream
    let redisEndpoint: RedisEndpoint
    let logger = Logger(label: "test.events")

    /// A harness on a database of its own (with the probe's effects table), dropped when `body` is done.
    static func with<T: Sendable>(redis: RedisEndpoint? = nil, _ body: (EventHarness) async throws -> T) async throws -> T {
        try await withTestDatabase { database in
            try await ProbeEvents.createEffectsTable(in: database)
            return try await body(EventHarness(
                database: database, stream: EventStream(key: "contexo:test:\(UUID().uuidString.lowercased())"),
                redisEndpoint: try redis ?? TestStack.current().redis))
        }
    }

    var serviceURL: DatabaseURL { database.roleURL("contexo_chat") }

    /// Writes `count` events into `chat.outbox` as the chat role, `perTransaction` at a time.
    func publish(_ envelopes: [EventEnvelope], perTransaction: Int = 1000) async throws {
        let writer = OutboxWriter(schema: "chat")
        try await database.withConnection(serviceURL) { connection in
            for chunk in stride(from: 0, to: envelopes.count, by: perTransaction) {
                let batch = envelopes[chunk..<min(chunk + perTransaction, envelopes.count)].map { ($0, stream) }
                try await connection.query("BEGIN", logger: logger)
                try await writer.enqueue(batch: Array(batch), on: connection, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            }
        }
    }

    /// The clients a test's services share, and a relay of `chat.outbox` signing as Chat.
    func runtime(connections: Int = 4, redis endpoint: RedisEndpoint? = nil) -> EventRuntime {
        let postgres = PostgresClient(configuration: serviceURL.clientConfiguration(maximumConnections: connections),
                                      backgroundLogger: logger)
        let redis = RedisClient(endpoint: endpoint ?? redisEndpoint)
        let metrics = EventMetrics(registry: .init())
        let relay = OutboxRelay(schema: "chat", signer: TestEventKeys.signingKey(.chat), postgres: postgres, redis: redis,
                                metrics: metrics, logger: logger)
        return EventRuntime(postgres: postgres, redis: redis, metrics: metrics, relay: relay)
    }

    func consumerConfiguration(_ name: String) -> StreamConsumer.Configuration {
        var configuration = StreamConsumer.Configuration(stream: stream, group: "chat", consumer: name)
        configuration.block = .milliseconds(200)
        configuration.claimIdle = .milliseconds(1000)
        configuration.claimInterval = .milliseconds(200)
        return configuration
    }

    /// Waits until `condition` holds, polling; false on timeout.
    func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    func inboxCount() async throws -> Int {
        try await database.withConnection(database.adminURL) { connection in
            try await connection.query("SELECT count(*)::int FROM chat.inbox", logger: logger).collect().first?.decode(Int.self) ?? 0
        }
    }
}

/// A test's Postgres and Redis clients, event metrics and outbox relay.
struct EventRuntime {
    let postgres: PostgresClient
    let redis: RedisClient
    let metrics: EventMetrics
    let relay: OutboxRelay
}

/// Runs services (clients, relays, consumers) for the duration of a test body, then shuts them down
/// gracefully — the same lifecycle the service executables use.
func withServices<T: Sendable>(
    _ services: [any Service], _ body: @Sendable () async throws -> T
) async throws -> T {
    let group = ServiceGroup(configuration: .init(
        services: services.map { .init(service: $0) }, logger: Logger(label: "test.services")))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}

extension EventRuntime {
    var parts: (PostgresClient, RedisClient, EventMetrics, OutboxRelay) { (postgres, redis, metrics, relay) }
}
