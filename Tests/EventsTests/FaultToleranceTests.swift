import Contract
import Foundation
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// Redis outages, poison events and unknown event types: the stream keeps flowing and nothing is lost.
@Suite(.serialized, .timeLimit(.minutes(5))) struct FaultToleranceTests {
    @Test func eventsPublishedWhileRedisIsDownArriveWhenItReturns() async throws {
        let server = try RedisServerProcess(persistent: true)
        try await server.start()
        try await EventHarness.with(redis: server.endpoint) { harness in
            let (postgres, redis, metrics, relay) = harness.runtime(connections: 6, redis: server.endpoint).parts
            let consumer = StreamConsumer(
                configuration: harness.consumerConfiguration("only"), inboxSchema: "chat", postgres: postgres, redis: redis,
                handlers: ProbeEvents.handlers(consumer: "only"), verifier: TestEventKeys.probeVerifier, metrics: metrics, logger: harness.logger)
            let total = 2_000
            try await withServices([postgres, redis, relay, consumer]) {
                // Publish steadily for ~3 s; Redis dies after ~0.5 s and is back ~2.5 s later.
                async let publishing: Void = {
                    for start in stride(from: 0, to: total, by: 50) {
                        try await harness.publish((start..<start + 50).map { ProbeEvents.envelope(sequence: $0) })
                        try await Task.sleep(for: .milliseconds(75))
                    }
                }()
                try await Task.sleep(for: .milliseconds(500))
                server.stop()
                try await Task.sleep(for: .milliseconds(2500))
                try await server.start()
                try await publishing
                let done = try await harness.eventually { try await ProbeEvents.effectCounts(in: harness.database).0 >= total }
                let applied = try await ProbeEvents.effectCounts(in: harness.database).0
                #expect(done, "applied \(applied) of \(total)")
            }
            let (applied, distinct) = try await ProbeEvents.effectCounts(in: harness.database)
            #expect(applied == total && distinct == total, "applied \(applied), distinct \(distinct), of \(total)")
            server.stop()
        }
    }

    @Test func aPoisonEventIsDeadLetteredWithItsErrorAndTheStreamKeepsFlowing() async throws {
        try await EventHarness.with { harness in
            let (postgres, redis, metrics, relay) = harness.runtime(connections: 4).parts
            var configuration = harness.consumerConfiguration("only")
            configuration.maximumDeliveries = 3
            configuration.claimIdle = .milliseconds(300)
            configuration.claimInterval = .milliseconds(100)
            let consumer = StreamConsumer(
                configuration: configuration, inboxSchema: "chat", postgres: postgres, redis: redis,
                handlers: ProbeEvents.handlers(consumer: "only"), verifier: TestEventKeys.probeVerifier, metrics: metrics, logger: harness.logger)
            let poison = ProbeEvents.envelope(ProbeEvents.poison, sequence: -1)
            let unknown = ProbeEvents.envelope("probe.future.event", sequence: -2)
            let good = (0..<100).map { ProbeEvents.envelope(sequence: $0) }
            let deadLetter = harness.stream.deadLetter.key
            try await withServices([postgres, redis, relay, consumer]) {
                try await harness.publish([poison, unknown] + good, perTransaction: 10)
                // A malformed entry (signed, so that it gets as far as being read) cannot be read:
                // dead-lettered at once.
                try await redis.send(TestEventKeys.signedAdd(Array("{not json".utf8), to: harness.stream.key,
                                                             signedBy: TestEventKeys.signingKey(.chat)))
                let flowed = try await harness.eventually(timeout: .seconds(30)) {
                    try await ProbeEvents.effectCounts(in: harness.database).0 >= 100
                }
                #expect(flowed, "good events must not wait behind the poison")
                let deadLettered = try await harness.eventually(timeout: .seconds(30)) {
                    try await redis.send("XLEN", deadLetter).integer == 2
                }
                #expect(deadLettered)
                // Nothing is left pending: the poison was acknowledged after it was dead-lettered.
                let settled = try await harness.eventually(timeout: .seconds(10)) {
                    try await redis.send("XPENDING", harness.stream.key, "chat").array?.first?.integer == 0
                }
                #expect(settled)
            }
            let redisCheck = RedisClient(endpoint: harness.redisEndpoint)
            let entries = try await redisCheck.send("XRANGE", deadLetter, "-", "+").array ?? []
            await redisCheck.shutdown()
            var fieldsByEntry: [[String: String]] = []
            for entry in entries {
                let flat = entry.array?[1].array ?? []
                var fields: [String: String] = [:]
                for index in stride(from: 0, to: flat.count - 1, by: 2) { fields[flat[index].string ?? ""] = flat[index + 1].string }
                fieldsByEntry.append(fields)
            }
            let poisoned = try #require(fieldsByEntry.first { $0["envelope"]?.contains(poison.id.uuidString.lowercased()) == true })
            #expect(poisoned["error"]?.contains("probe poison") == true)
            #expect(poisoned["deliveries"] == "3")
            #expect(poisoned["group"] == "chat")
            let malformed = try #require(fieldsByEntry.first { $0["envelope"] == "{not json" })
            #expect(malformed["error"]?.contains("malformed envelope") == true)
            #expect(try await ProbeEvents.effectCounts(in: harness.database).0 == 100)
            let exposition = metrics.registry.emitToString()
            #expect(exposition.contains(#"outcome="ignored"} 1"#), "an unknown type from its owner is acknowledged and counted as ignored")
            #expect(exposition.contains("contexo_events_dead_lettered_total"))
            #expect(exposition.contains("contexo_events_retried_total"))
        }
    }
}
