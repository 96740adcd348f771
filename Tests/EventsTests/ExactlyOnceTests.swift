import Contract
import Foundation
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// Outbox → stream → inbox against the real Postgres and Redis: nothing lost, nothing applied twice.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ExactlyOnceTests {
    @Test func tenThousandEventsAreAppliedExactlyOnceAcrossTwoReplicas() async throws {
        try await EventHarness.with { harness in
            let (postgres, redis, metrics, relay) = harness.runtime(connections: 6).parts
            let replicas = ["replica-a", "replica-b"].map { name in
                StreamConsumer(configuration: harness.consumerConfiguration(name), inboxSchema: "chat", postgres: postgres,
                               redis: redis, handlers: ProbeEvents.handlers(consumer: name), verifier: TestEventKeys.probeVerifier, metrics: metrics, logger: harness.logger)
            }
            let envelopes = (0..<10_000).map { ProbeEvents.envelope(sequence: $0) }
            try await withServices([postgres, redis, relay] + replicas) {
                try await harness.publish(envelopes)
                let done = try await harness.eventually { try await ProbeEvents.effectCounts(in: harness.database).0 >= 10_000 }
                #expect(done)
                // A duplicate delivery (the relay re-publishing after a crash) has no second effect.
                for envelope in envelopes.prefix(50) {
                    try await redis.send(try TestEventKeys.signedAdd(envelope, to: harness.stream.key, by: .chat))
                }
                _ = try await harness.eventually(timeout: .seconds(10)) {
                    try await redis.send("XINFO", "GROUPS", harness.stream.key).array?.first?.array.map { info in
                        let index = info.firstIndex(of: .bulk(Array("pending".utf8)))!
                        return info[index + 1] == .integer(0) && info[info.firstIndex(of: .bulk(Array("entries-read".utf8)))! + 1] == .integer(10_050)
                    } ?? false
                }
            }
            let (applied, distinct) = try await ProbeEvents.effectCounts(in: harness.database)
            #expect(applied == 10_000)
            #expect(distinct == 10_000)
            #expect(try await harness.inboxCount() == 10_000)
            let byA = try await ProbeEvents.effects(by: "replica-a", in: harness.database)
            let byB = try await ProbeEvents.effects(by: "replica-b", in: harness.database)
            #expect(byA > 0 && byB > 0, "both replicas share the group: a=\(byA) b=\(byB)")
            // At least the 50 re-published entries were recognised as duplicates (more when a slow batch
            // was claimed by the other replica under load: also without a second effect).
            let exposition = metrics.registry.emitToString()
            let prefix = #"contexo_events_consumed_total{stream="\#(harness.stream.key)",group="chat",type="probe.tick",outcome="#
            let duplicates = exposition.split(separator: "\n").first { $0.hasPrefix(prefix + #""duplicate"}"#) }
                .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            #expect(duplicates >= 50)
            #expect(exposition.contains(prefix + #""applied"} 10000"#))
        }
    }

    /// A relay that loses its Redis connection mid-pipeline publishes the unconfirmed entries again,
    /// so one batch can hold the same event twice: it is applied once. (Found as a rare failure of
    /// the Redis-outage test under load: the inbox took the id once, the handler ran twice.)
    @Test func theSameEventTwiceInOneBatchIsAppliedOnce() async throws {
        try await EventHarness.with { harness in
            let (postgres, redis, metrics, _) = harness.runtime(connections: 4).parts
            let envelope = ProbeEvents.envelope(sequence: 7)
            let writer = RedisClient(endpoint: harness.redisEndpoint)
            for _ in 0..<2 { _ = try await writer.send(try TestEventKeys.signedAdd(envelope, to: harness.stream.key, by: .chat)) }
            await writer.shutdown()
            let consumer = StreamConsumer(
                configuration: harness.consumerConfiguration("only"), inboxSchema: "chat", postgres: postgres, redis: redis,
                handlers: ProbeEvents.handlers(consumer: "only"), verifier: TestEventKeys.probeVerifier, metrics: metrics, logger: harness.logger)
            try await withServices([postgres, redis, consumer]) {
                let read = try await harness.eventually(timeout: .seconds(30)) { try await harness.inboxCount() >= 1 }
                #expect(read)
                // Both entries are acknowledged once the batch commits.
                let settled = try await harness.eventually(timeout: .seconds(30)) {
                    let pending = try await redis.send("XPENDING", harness.stream.key, harness.consumerConfiguration("only").group)
                    return pending.array?.first?.integer == 0
                }
                #expect(settled)
            }
            let (applied, distinct) = try await ProbeEvents.effectCounts(in: harness.database)
            #expect(applied == 1 && distinct == 1, "applied \(applied) times")
        }
    }

    @Test func aReplicaKilledMidBatchHasItsEntriesTakenOverByTheOther() async throws {
        try await EventHarness.with { harness in
            let stack = try TestStack.current()
            let url = harness.serviceURL
            let victim = try ServiceProcess(binary: "StreamProbe", port: 0, environment: [
                "PROBE_DATABASE_URL": "postgres://\(url.username):\(url.password!)@\(url.host):\(url.port)/\(url.database)",
                "PROBE_REDIS_URL": stack.redisURL, "PROBE_STREAM": harness.stream.key, "PROBE_GROUP": "chat",
                "PROBE_CONSUMER": "victim", "PROBE_DELAY_MS": "20", "PROBE_BATCH": "100",
            ])
            defer { victim.stop() }
            let metrics = EventMetrics(registry: .init())
            try await harness.publish((0..<600).map { ProbeEvents.envelope(sequence: $0) })
            // Phase 1: only the victim consumes. Once its first batch is committed, kill it in the middle
            // of the second one (20 ms per event, 100 per batch, one transaction per batch).
            let postgres = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 4), backgroundLogger: harness.logger)
            let redis = RedisClient(endpoint: harness.redisEndpoint)
            let relay = OutboxRelay(schema: "chat", signer: TestEventKeys.signingKey(.chat), postgres: postgres, redis: redis, metrics: metrics, logger: harness.logger)
            try await withServices([postgres, redis, relay]) {
                let victimStarted = try await harness.eventually(timeout: .seconds(30)) {
                    try await ProbeEvents.effects(by: "victim", in: harness.database) > 0
                }
                #expect(victimStarted, "the probe never applied anything:\n\(victim.output().suffix(1500))")
                try await Task.sleep(for: .milliseconds(700))
                victim.signal(SIGKILL)
                _ = await victim.waitForExit(timeout: .seconds(5))
            }
            let pendingOfVictim = try await pendingCount(redis: harness.redisEndpoint, stream: harness.stream.key, consumer: "victim")
            #expect(pendingOfVictim > 0, "the victim should die holding unacknowledged entries")
            let appliedBeforeTakeover = try await ProbeEvents.effectCounts(in: harness.database).0
            #expect(appliedBeforeTakeover < 600)

            // Phase 2: the other replica claims the dead one's entries once they are idle, and finishes.
            let postgres2 = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 4), backgroundLogger: harness.logger)
            let redis2 = RedisClient(endpoint: harness.redisEndpoint)
            let survivor = StreamConsumer(
                configuration: harness.consumerConfiguration("survivor"), inboxSchema: "chat", postgres: postgres2, redis: redis2,
                handlers: ProbeEvents.handlers(consumer: "survivor"), verifier: TestEventKeys.probeVerifier, metrics: metrics, logger: harness.logger)
            try await withServices([postgres2, redis2, survivor]) {
                let done = try await harness.eventually { try await ProbeEvents.effectCounts(in: harness.database).0 >= 600 }
                #expect(done)
                _ = try await harness.eventually(timeout: .seconds(5)) {
                    try await pendingCount(redis: harness.redisEndpoint, stream: harness.stream.key, consumer: "victim") == 0
                }
            }
            let (applied, distinct) = try await ProbeEvents.effectCounts(in: harness.database)
            #expect(applied == 600 && distinct == 600)
            #expect(try await pendingCount(redis: harness.redisEndpoint, stream: harness.stream.key, consumer: "victim") == 0)
        }
    }

    private func pendingCount(redis endpoint: RedisEndpoint, stream: String, consumer: String) async throws -> Int {
        let redis = RedisClient(endpoint: endpoint, maximumConnections: 1)
        defer { Task { await redis.shutdown() } }
        let reply = try await redis.send("XPENDING", stream, "chat", "-", "+", "10000", consumer)
        return reply.array?.count ?? 0
    }
}
