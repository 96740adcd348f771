import Contract
import Crypto
import Foundation
import Platform
import PostgresNIO
import Testing
import TestSupport

/// S1.2, S6.4: a consumer applies only events their owner signed. Anyone who can write to Redis
/// can add entries; none of theirs is applied, and each is dead-lettered with the reason.
@Suite(.timeLimit(.minutes(5))) struct SignedEventTests {
    @Test func forgedEntriesChangeNothingAndAreDeadLetteredWithTheirReason() async throws {
        try await EventHarness.with { harness in
            let (postgres, redis, metrics, relay) = harness.runtime(connections: 4).parts
            // The probe's handlers, plus one for a Billing type: a forged plan change must be refused
            // because of who signed it, not because nobody handles it.
            var handlers = ProbeEvents.handlers(consumer: "only")
            handlers[EntitlementsChanged.type] = handlers[ProbeEvents.tick]
            let consumer = StreamConsumer(
                configuration: harness.consumerConfiguration("only"), inboxSchema: "chat", postgres: postgres, redis: redis,
                handlers: handlers, verifier: TestEventKeys.probeVerifier, metrics: metrics, logger: harness.logger)

            let stream = harness.stream.key
            let chatKey = TestEventKeys.signingKey(.chat)
            let billingKey = TestEventKeys.signingKey(.billing)
            let stranger = EventSigningKey(keyID: "chat-test-1")  // a trusted key id, but another key
            let unknown = EventSigningKey(keyID: "attacker-1")
            @Sendable func body(_ type: String) throws -> [UInt8] {
                Array(try EventEnvelope(type: type, version: 1, tenantID: UUID(), payload: .object(["n": .number(0)])).encoded())
            }
            let forged = try body(ProbeEvents.tick)
            var tampered = TestEventKeys.signedAdd(try body(ProbeEvents.tick), to: stream, signedBy: chatKey)
            tampered[4] = Array(String(decoding: tampered[4], as: UTF8.self).replacingOccurrences(of: "\"n\":0", with: "\"n\":1").utf8)
            var truncatedSignature = TestEventKeys.signedAdd(try body(ProbeEvents.tick), to: stream, signedBy: chatKey)
            truncatedSignature[8] = Array(truncatedSignature[8].dropLast(4))
            let attacks: [(String, [[UInt8]])] = [
                ("unsigned", [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8), Array("envelope".utf8), forged]),
                ("bad_signature", tampered),
                ("bad_signature", truncatedSignature),
                ("bad_signature", TestEventKeys.signedAdd(try body(ProbeEvents.tick), to: stream, signedBy: stranger)),
                ("unknown_key", TestEventKeys.signedAdd(try body(ProbeEvents.tick), to: stream, signedBy: unknown)),
                // Chat's own key may not speak for Billing, nor Billing's for Chat.
                ("wrong_signer", TestEventKeys.signedAdd(try body(EntitlementsChanged.type), to: stream, signedBy: chatKey)),
                ("wrong_signer", TestEventKeys.signedAdd(try body(ProbeEvents.tick), to: stream, signedBy: billingKey)),
                ("no_owner", TestEventKeys.signedAdd(try body("nobody.owns.this"), to: stream, signedBy: chatKey)),
            ]
            let good = (0..<20).map { ProbeEvents.envelope(sequence: $0) }
            let deadLetter = harness.stream.deadLetter.key
            try await withServices([postgres, redis, relay, consumer]) {
                for (_, command) in attacks { try await redis.send(command) }
                try await harness.publish(good)
                // A correctly signed Billing event on the same stream is applied: the gate is the
                // signature, not the stream.
                try await redis.send(TestEventKeys.signedAdd(try body(EntitlementsChanged.type), to: stream, signedBy: billingKey))
                let settled = try await harness.eventually(timeout: .seconds(30)) {
                    let applied = try await ProbeEvents.effectCounts(in: harness.database).0
                    let rejected = try await redis.send("XLEN", deadLetter).integer ?? 0
                    return applied >= 21 && rejected >= Int64(attacks.count)
                }
                #expect(settled)
                let pending = try await redis.send("XPENDING", stream, "chat").array?.first?.integer
                #expect(pending == 0, "rejected entries are acknowledged, not retried")
            }
            #expect(try await ProbeEvents.effectCounts(in: harness.database).0 == 21, "only the 20 relayed events and Billing's own")

            let check = RedisClient(endpoint: harness.redisEndpoint)
            let entries = try await check.send("XRANGE", deadLetter, "-", "+").array ?? []
            await check.shutdown()
            let errors = entries.compactMap { entry -> String? in
                let flat = entry.array?[1].array ?? []
                guard let index = flat.firstIndex(of: .bulk(Array("error".utf8))) else { return nil }
                return flat[index + 1].string
            }
            #expect(errors.count == attacks.count)
            #expect(errors.filter { $0.contains("not signed") }.count == 1, "\(errors)")
            #expect(errors.filter { $0.contains("signature does not match") }.count == 3, "\(errors)")
            #expect(errors.filter { $0.contains("does not trust") }.count == 1, "\(errors)")
            #expect(errors.contains { $0.contains("billing.entitlements.changed must be signed by billing, but was signed by chat") })
            #expect(errors.contains { $0.contains("probe.tick must be signed by chat, but was signed by billing") })
            #expect(errors.contains { $0.contains("no service publishes events of type \"nobody.owns.this\"") })
            let exposition = metrics.registry.emitToString()
            let rejected = exposition.split(separator: "\n").filter { $0.hasPrefix("contexo_events_rejected_total{") }
            for (reason, count) in [("unsigned", 1), ("bad_signature", 3), ("unknown_key", 1), ("wrong_signer", 2), ("no_owner", 1)] {
                #expect(rejected.contains { $0.contains(#"reason="\#(reason)""#) && $0.hasSuffix(" \(count)") }, "\(reason) in \(rejected)")
            }
        }
    }

    /// Rotation: while both the old and the new key are trusted, events signed with either apply.
    @Test func aRotatedKeyAndItsPredecessorAreBothAcceptedWhileBothAreTrusted() throws {
        let old = TestEventKeys.signingKey(.billing), new = TestEventKeys.signingKey(.billing, generation: 2)
        let both = EventVerifier(keyring: EventKeyring([old.publicKey(of: .billing), new.publicKey(of: .billing)]))
        let onlyNew = EventVerifier(keyring: EventKeyring([new.publicKey(of: .billing)]))
        let body = Array(try EventEnvelope(AccountDeleted(requestedAt: Date()), tenantID: UUID()).encoded())
        func fields(_ key: EventSigningKey) -> [String: [UInt8]] {
            let command = TestEventKeys.signedAdd(body, to: "s", signedBy: key)
            return ["envelope": command[4], "key_id": command[6], "signature": command[8]]
        }
        #expect((try? both.verify(fields: fields(old)).get()) != nil)
        #expect((try? both.verify(fields: fields(new)).get()) != nil)
        #expect((try? onlyNew.verify(fields: fields(new)).get()) != nil)
        #expect(onlyNew.verify(fields: fields(old)) == .failure(.unknownKey(old.keyID)))
    }
}
