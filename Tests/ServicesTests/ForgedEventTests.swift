@testable import Chat
import Contract
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Ingest
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// The attack of the security review (S1.2, S6.4): whoever can write to Redis adds a plan change
/// or an account deletion to Billing's stream. Chat and Ingest, running as in production (their
/// own Redis users, their real consumers), apply none of it; the forged entries are dead-lettered.
@Suite(.timeLimit(.minutes(5))) struct ForgedEventTests {
    static let logger = Logger(label: "test.forged")

    /// (plan in chat's copy, plan in ingest's copy) of `tenant`, "-" when none.
    static func plans(_ database: TestDatabase, _ tenant: UUID) async throws -> [String] {
        try await database.withConnection(database.adminURL) { connection in
            var plans: [String] = []
            for schema in ["chat", "ingest"] {
                plans.append(try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT coalesce((SELECT plan FROM \(schema).tenant_entitlements WHERE owner_id = '\(tenant)'), '-')
                    """), logger: logger).collect().first?.decode(String.self) ?? "?")
            }
            return plans
        }
    }

    /// True once both consumer groups have read `count` entries of Billing's stream and hold none pending.
    static func consumed(_ redis: RedisClient, count: Int) async throws -> Bool {
        guard let groups = try await redis.send("XINFO", "GROUPS", EventStream.billing.key).array, groups.count == 2 else { return false }
        return groups.allSatisfy { group in
            guard let flat = group.array else { return false }
            func value(_ name: String) -> RedisReply? { flat.firstIndex(of: .bulk(Array(name.utf8))).map { flat[$0 + 1] } }
            return value("pending") == .integer(0) && value("entries-read") == .integer(Int64(count))
        }
    }

    @Test func aForgedPlanChangeOrAccountDeletionChangesNothingInChatOrIngest() async throws {
        let redis = try RedisServerProcess(withUsers: true)
        try await redis.start()
        defer { redis.stop() }
        try await withTestDatabase { database in
            let victim = UUID()
            try await AccountErasureTests.seed(database, owners: [victim])

            let chat = try await Chat.buildApplication(configuration: ChatConfiguration(
                service: serviceConfiguration(database.stack, for: .chat, redis: redis.endpoint(for: .chat)),
                database: DatabaseConfiguration(url: database.roleURL("contexo_chat"), maximumConnections: 4)), logger: Self.logger)
            let ingest = try await Ingest.buildApplication(configuration: IngestConfiguration(
                service: serviceConfiguration(database.stack, for: .ingest, redis: redis.endpoint(for: .ingest)),
                database: DatabaseConfiguration(url: database.roleURL("contexo_ingest"), maximumConnections: 4)), logger: Self.logger)
            let attacker = RedisClient(endpoint: redis.endpoint)  // `default`: may write anything
            defer { Task { await attacker.shutdown() } }

            let business = try EventEnvelope(EntitlementsChanged(
                plan: "business", status: "active",
                limits: PlanLimits(widgets: 100, messagesPerMonth: 1_000_000, knowledgeBytes: 1 << 40),
                periodEnd: nil, revision: 999_999), tenantID: victim)
            let deletion = try EventEnvelope(AccountDeleted(requestedAt: Date()), tenantID: victim)
            // Billing really signed a deletion of somebody else; the attacker swaps in the victim.
            let someoneElse = UUID()
            var swapped = try TestEventKeys.signedAdd(
                EventEnvelope(AccountDeleted(requestedAt: Date()), tenantID: someoneElse), to: EventStream.billing.key, by: .billing)
            swapped[4] = Array(String(decoding: swapped[4], as: UTF8.self)
                .replacingOccurrences(of: someoneElse.uuidString.lowercased(), with: victim.uuidString.lowercased()).utf8)
            let stream = EventStream.billing.key
            let forgeries: [[[UInt8]]] = [
                [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8), Array("envelope".utf8), Array(try business.encoded())],
                try TestEventKeys.signedAdd(business, to: stream, by: .chat),
                TestEventKeys.signedAdd(Array(try deletion.encoded()), to: stream, signedBy: EventSigningKey(keyID: "billing-2026")),
                swapped,
                // Signed by Billing, but without the ticket Postgres mints for each event: a leaked
                // signing key alone enters no tenant.
                TestEventKeys.signedAdd(Array(try deletion.encoded()), to: stream, signedBy: TestEventKeys.signingKey(.billing)),
                // Signed by Billing, with a ticket signed by a key Postgres does not hold.
                TestEventKeys.signedAdd(Array(try business.encoded()), to: stream, signedBy: TestEventKeys.signingKey(.billing))
                    + [Array(SignedEntryField.tenantTicket.utf8),
                       Array(try TenantTicketKey(id: TestStack.ticketKey.id, secret: Data(repeating: 9, count: 32))
                           .mint(for: victim, scope: "e-\(business.id.uuidString.lowercased())", expires: Int64(Date().timeIntervalSince1970) + 3600)
                           .text.utf8)],
            ]

            try await chat.test(.live) { _ in
                try await ingest.test(.live) { _ in
                    for forgery in forgeries { try await attacker.send(forgery) }
                    var settled = false
                    for _ in 0..<300 where !settled {
                        settled = try await Self.consumed(attacker, count: forgeries.count)
                        if !settled { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(settled, "both consumers read every forged entry")
                    #expect(try await Self.plans(database, victim) == ["-", "-"], "no forged plan reached a copy")
                    #expect(try await AccountErasureTests.counts(database, owner: victim) == [1, 1, 1, 1, 1, 1, 1], "nothing was erased")
                    let deadLettered = try await attacker.send("XLEN", EventStream.billing.deadLetter.key).integer
                    #expect(deadLettered == Int64(forgeries.count * 2), "each group dead-letters each forgery")

                    // The same change, signed by Billing, is applied: the consumers were listening.
                    try await attacker.send(try TestEventKeys.signedAdd(business, to: stream, by: .billing))
                    var plans: [String] = []
                    for _ in 0..<300 where plans != ["business", "business"] {
                        plans = try await Self.plans(database, victim)
                        if plans != ["business", "business"] { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(plans == ["business", "business"])
                }
            }
        }
    }

    /// Least privilege in Redis: each service's user adds entries only to its own streams.
    @Test func eachServicesRedisUserWritesOnlyItsOwnStreams() async throws {
        let redis = try RedisServerProcess(withUsers: true)
        try await redis.start()
        defer { redis.stop() }
        func outcome(_ service: ServiceName?, _ command: [String]) async -> String {
            let client = RedisClient(endpoint: service.map { redis.endpoint(for: $0) }
                                     ?? RedisEndpoint(host: "127.0.0.1", port: redis.port))
            defer { Task { await client.shutdown() } }
            do {
                _ = try await client.send(command)
                return "ok"
            } catch .server(let message) {
                return String(message.prefix(while: { $0 != " " }))
            } catch {
                return "\(error)"
            }
        }
        let add = { (stream: EventStream) in ["XADD", stream.key, "*", "envelope", "{}"] }
        #expect(await outcome(.chat, add(.billing)) == "NOPERM", "the forged-event attack, through Chat's credentials")
        #expect(await outcome(.chat, add(.chat)) == "ok")
        #expect(await outcome(.chat, add(.ingestJobs)) == "NOPERM")
        #expect(await outcome(.ingest, add(.billing)) == "NOPERM")
        #expect(await outcome(.ingest, add(.chat)) == "NOPERM")
        #expect(await outcome(.ingest, add(.ingestJobs)) == "ok")
        #expect(await outcome(.ingest, add(.ingest)) == "ok")
        #expect(await outcome(.billing, add(.billing)) == "ok")
        #expect(await outcome(.billing, add(.chat)) == "NOPERM")
        #expect(await outcome(.gateway, add(.billing)) == "NOPERM")
        #expect(await outcome(.gateway, add(.chat)) == "NOPERM")
        // Consumers read their group on the streams they consume, and nothing else.
        #expect(await outcome(.chat, ["XGROUP", "CREATE", EventStream.billing.key, "chat", "0", "MKSTREAM"]) == "ok")
        #expect(await outcome(.chat, ["XREADGROUP", "GROUP", "chat", "c", "COUNT", "1", "STREAMS", EventStream.billing.key, ">"]) == "ok")
        #expect(await outcome(.chat, ["XREADGROUP", "GROUP", "chat", "c", "COUNT", "1", "STREAMS", EventStream.ingestJobs.key, ">"]) == "NOPERM")
        #expect(await outcome(.chat, ["XADD", EventStream.billing.deadLetter.key, "*", "error", "x"]) == "ok")
        #expect(await outcome(.chat, ["DEL", EventStream.billing.key]) == "NOPERM")
        #expect(await outcome(.chat, ["SET", "contexo:ratelimit:x", "1"]) == "NOPERM")
        #expect(await outcome(.gateway, ["SET", "contexo:ratelimit:x", "1"]) == "ok")
        #expect(await outcome(.gateway, ["XREAD", "COUNT", "1", "STREAMS", EventStream.billing.key, "0"]) == "ok")
        #expect(await outcome(.gateway, ["CONFIG", "GET", "*"]) == "NOPERM")
        // `default` needs its password.
        #expect(await outcome(nil, ["PING"]) == "NOAUTH")
    }
}
