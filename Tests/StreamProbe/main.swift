import Contract
import Foundation
import Logging
import Platform
import ServiceLifecycle
import TestSupport

// A consumer replica in a process of its own, for tests that SIGKILL one mid-batch or crash its
// Postgres. Configuration (environment): PROBE_DATABASE_URL, PROBE_REDIS_URL, PROBE_STREAM,
// PROBE_GROUP, PROBE_CONSUMER, PROBE_DELAY_MS (per event), PROBE_BATCH, PROBE_CLAIM_IDLE_MS, and
// PROBE_RELAY=1 to also run the relay of chat.outbox, as a service replica does.

let environment = ProcessInfo.processInfo.environment
func value(_ name: String) -> String {
    guard let value = environment[name], !value.isEmpty else {
        FileHandle.standardError.write(Data("StreamProbe: \(name) is required\n".utf8))
        exit(78)
    }
    return value
}

LoggingSystem.bootstrap { JSONLogHandler(label: $0, service: "probe", level: .info) }
let logger = Logger(label: "probe")
let database = DatabaseURL(value("PROBE_DATABASE_URL"))!
let consumerName = value("PROBE_CONSUMER")
var configuration = StreamConsumer.Configuration(
    stream: EventStream(key: value("PROBE_STREAM")), group: value("PROBE_GROUP"), consumer: consumerName)
configuration.batchSize = Int(environment["PROBE_BATCH"] ?? "") ?? 50
configuration.claimIdle = .milliseconds(Int(environment["PROBE_CLAIM_IDLE_MS"] ?? "") ?? 30_000)
configuration.claimInterval = .milliseconds(200)
configuration.block = .milliseconds(200)

let postgres = PostgresClient(configuration: database.clientConfiguration(maximumConnections: 4), backgroundLogger: logger)
let redis = RedisClient(endpoint: RedisEndpoint(url: value("PROBE_REDIS_URL"))!)
let consumer = StreamConsumer(
    configuration: configuration, inboxSchema: "chat", postgres: postgres, redis: redis,
    handlers: ProbeEvents.handlers(consumer: consumerName, delay: .milliseconds(Int(environment["PROBE_DELAY_MS"] ?? "") ?? 0)),
    verifier: TestEventKeys.probeVerifier, metrics: EventMetrics(registry: .init()), logger: logger)
var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: postgres), .init(service: redis), .init(service: consumer)]
if environment["PROBE_RELAY"] == "1" {
    services.append(.init(service: OutboxRelay(schema: "chat", signer: TestEventKeys.signingKey(.chat), postgres: postgres, redis: redis,
                                               metrics: EventMetrics(registry: .init()), logger: logger)))
}
let group = ServiceGroup(configuration: .init(
    services: services,
    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
logger.info("probe consuming")
try await group.run()

import PostgresNIO
