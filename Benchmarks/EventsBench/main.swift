import Contract
import Foundation
import Logging
import Migrations
import Platform
import PostgresNIO
import ServiceLifecycle
import TestSupport

// scripts/bench events: end-to-end event throughput and delivery latency
// (outbox write → relay → XADD → XREADGROUP → effect + inbox commit), against a real Postgres and Redis.
// Environment: BENCH_PG (host:port), BENCH_ADMIN_PASSWORD, BENCH_ROLE_PASSWORD, BENCH_REDIS_URL,
// BENCH_MIGRATIONS_DIR, BENCH_EVENTS (throughput run size), BENCH_RATE and BENCH_SECONDS (latency run).

/// Writes a result line at once (no buffering to lose if the run dies).
func report(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let environment = ProcessInfo.processInfo.environment
func setting(_ name: String, _ fallback: String? = nil) -> String {
    guard let value = environment[name] ?? fallback else { fatalError("\(name) is required") }
    return value
}
var logger = Logger(label: "bench")
logger.logLevel = .warning
let pg = setting("BENCH_PG")
let adminPassword = setting("BENCH_ADMIN_PASSWORD")
let rolePassword = setting("BENCH_ROLE_PASSWORD")
let redisEndpoint = RedisEndpoint(url: setting("BENCH_REDIS_URL"))!
let throughputEvents = Int(setting("BENCH_EVENTS", "20000"))!
let offeredRate = Int(setting("BENCH_RATE", "1000"))!
let latencySeconds = Int(setting("BENCH_SECONDS", "10"))!

func run(_ sql: String, database: String) async throws {
    let connection = try await PostgresConnection.connect(
        configuration: try DatabaseURL("postgres://postgres:\(adminPassword)@\(pg)/\(database)")!.connectionConfiguration(),
        id: 1, logger: logger)
    try await SQLScript.run(sql, on: connection, logger: logger)
    try await connection.close()
}

// A fresh, migrated database with the probe effects table.
try await run("DROP DATABASE IF EXISTS contexo_bench WITH (FORCE); CREATE DATABASE contexo_bench", database: "postgres")
let admin = DatabaseURL("postgres://postgres:\(adminPassword)@\(pg)/contexo_bench")!
let migrations = try MigrationFile.discover(in: URL(fileURLWithPath: setting("BENCH_MIGRATIONS_DIR")))
_ = try await Migrator(
    admin: admin,
    roles: try ["chat", "ingest", "billing"].map { try ServiceRole(schema: $0, name: "contexo_\($0)", password: rolePassword) },
    migrations: migrations, ticketKeys: [TestStack.ticketKey], logger: logger).run()
try await run("""
    CREATE TABLE chat.probe_effects (event_id uuid NOT NULL, consumer text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
    GRANT SELECT, INSERT ON chat.probe_effects TO contexo_chat;
    """, database: "contexo_bench")

let role = DatabaseURL("postgres://contexo_chat:\(rolePassword)@\(pg)/contexo_bench")!
let stream = EventStream(key: "contexo:bench:\(UUID().uuidString.lowercased())")
let postgres = PostgresClient(configuration: role.clientConfiguration(maximumConnections: 8), backgroundLogger: logger)
let redis = RedisClient(endpoint: redisEndpoint, maximumConnections: 4)
let metrics = EventMetrics(registry: .init())
var relayConfiguration = OutboxRelay.Configuration()
relayConfiguration.batchSize = 1000
let relay = OutboxRelay(schema: "chat", signer: TestEventKeys.signingKey(.chat), postgres: postgres, redis: redis, metrics: metrics,
                        configuration: relayConfiguration, logger: logger)
let consumers = ["bench-a", "bench-b"].map { name in
    var configuration = StreamConsumer.Configuration(stream: stream, group: "chat", consumer: name)
    configuration.batchSize = 256
    configuration.block = .milliseconds(500)
    return StreamConsumer(configuration: configuration, inboxSchema: "chat", postgres: postgres, redis: redis,
                          handlers: ProbeEvents.handlers(consumer: name), verifier: TestEventKeys.probeVerifier, metrics: metrics, logger: logger)
}
let writer = OutboxWriter(schema: "chat")

func appliedCount() async throws -> Int {
    try await postgres.query("SELECT count(*)::int FROM chat.probe_effects", logger: logger)
        .collect().first?.decode(Int.self) ?? 0
}

func waitForApplied(_ target: Int) async throws {
    while try await appliedCount() < target { try await Task.sleep(for: .milliseconds(10)) }
}

/// Percentiles in milliseconds of an interval expression over the events of one run.
func percentiles(_ expression: String, since: Int) async throws -> [Double] {
    let row = try await postgres.query(PostgresQuery(unsafeSQL: """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.9) WITHIN GROUP (ORDER BY ms),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY ms), max(ms)
        FROM (SELECT (extract(epoch FROM \(expression)) * 1000)::float8 AS ms
              FROM chat.probe_effects e JOIN chat.outbox o ON o.event_id = e.event_id WHERE o.seq > \(since)) t
        """), logger: logger).collect().first
    let values = try row?.decode((Double, Double, Double, Double).self)
    return values.map { [$0.0, $0.1, $0.2, $0.3] } ?? []
}

func format(_ values: [Double]) -> String {
    guard values.count == 4 else { return "n/a" }
    return String(format: "p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms", values[0], values[1], values[2], values[3])
}

let group = ServiceGroup(configuration: .init(
    services: ([postgres, redis, relay] as [any Service] + consumers).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
    logger: logger))
try await withThrowingTaskGroup(of: Void.self) { tasks in
    tasks.addTask { try await group.run() }

    // Warm-up: connections, prepared paths, the consumer group.
    try await postgres.withTransaction(logger: logger) { connection in
        try await writer.enqueue(batch: (0..<500).map { (ProbeEvents.envelope(sequence: $0), stream) }, on: connection, logger: logger)
    }
    try await waitForApplied(500)

    // 1. Throughput: producers write as fast as they can (500 events per transaction).
    let start = ContinuousClock.now
    for chunk in stride(from: 0, to: throughputEvents, by: 500) {
        try await postgres.withTransaction(logger: logger) { connection in
            let batch = (chunk..<min(chunk + 500, throughputEvents)).map { (ProbeEvents.envelope(sequence: $0), stream) }
            try await writer.enqueue(batch: batch, on: connection, logger: logger)
        }
    }
    let written = ContinuousClock.now - start
    try await waitForApplied(500 + throughputEvents)
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let writeSeconds = Double(written.components.seconds) + Double(written.components.attoseconds) / 1e18
    report(String(format: "throughput: %d events end to end in %.2f s = %.0f events/s (producer alone wrote them in %.2f s)",
                 throughputEvents, seconds, Double(throughputEvents) / seconds, writeSeconds))

    // 2. Latency at a fixed offered rate: one event per transaction, as a service's state change makes it.
    let lastSeq = try await postgres.query("SELECT coalesce(max(seq), 0)::int FROM chat.outbox", logger: logger)
        .collect().first?.decode(Int.self) ?? 0
    let total = offeredRate * latencySeconds
    let interval = Duration.nanoseconds(1_000_000_000 / offeredRate)
    let paced = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { producers in
        // Four producers share the schedule so one slow commit does not delay the next event.
        for lane in 0..<4 {
            producers.addTask {
                var index = lane
                while index < total {
                    try await Task.sleep(until: paced + interval * index, clock: .continuous)
                    try await postgres.withTransaction(logger: logger) { connection in
                        try await writer.enqueue(ProbeEvents.envelope(sequence: index), stream: stream, on: connection, logger: logger)
                    }
                    index += 4
                }
            }
        }
        try await producers.waitForAll()
    }
    try await waitForApplied(500 + throughputEvents + total)
    report("latency at \(offeredRate) events/s offered for \(latencySeconds) s (\(total) events), outbox commit → effect applied:")
    report("  end to end:              " + format(try await percentiles("e.at - o.created_at", since: lastSeq)))
    report("  outbox → Redis (relay):  " + format(try await percentiles("o.published_at - o.created_at", since: lastSeq)))
    report("  Redis → effect (consumer): " + format(try await percentiles("e.at - o.published_at", since: lastSeq)))
    await group.triggerGracefulShutdown()
    try await tasks.waitForAll()
}
try await run("DROP DATABASE IF EXISTS contexo_bench WITH (FORCE)", database: "postgres")
