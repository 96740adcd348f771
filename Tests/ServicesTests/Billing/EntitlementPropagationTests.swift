import Billing
import Chat
import Foundation
import Hummingbird
import HummingbirdTesting
import Ingest
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// Billing's changes reach Chat's and Ingest's own copies through the real events runtime:
/// Billing's outbox relay → Redis stream → each service's consumer group → its inbox and tables.
@Suite(.timeLimit(.minutes(5))) struct EntitlementPropagationTests {
    typealias F = LemonSqueezyFixtures

    /// [chat limits, ingest limits, chat credits granted/revoked/debt], as text.
    static func copies(_ database: TestDatabase) async throws -> [String] {
        try await database.withConnection(database.adminURL) { connection in
            var values: [String] = []
            for sql in ["SELECT plan || ' r' || revision || ' w' || widgets FROM chat.tenant_entitlements",
                        "SELECT plan || ' r' || revision || ' b' || knowledge_bytes FROM ingest.tenant_entitlements",
                        "SELECT granted || '/' || revoked || '/' || debt FROM chat.message_credits"] {
                values.append(try await connection.query(PostgresQuery(unsafeSQL: "SELECT coalesce((\(sql)), '-')"),
                                                         logger: Logger(label: "test"))
                    .collect().first?.decode(String.self) ?? "-")
            }
            return values
        }
    }

    static func eventually(_ database: TestDatabase, _ expected: [String]) async throws -> Bool {
        for _ in 0..<150 {
            if try await copies(database) == expected { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    @Test func chatAndIngestCopiesFollowAnUpgradeARefundAndCredits() async throws {
        // A Redis of its own: the consumer groups "chat" and "ingest" must not share events with
        // other tests' services.
        let redis = try RedisServerProcess()
        try await redis.start()
        defer { redis.stop() }
        try await BillingHarness.with { harness in
            let database = harness.database
            let customer = UUID()
            let logger = Logger(label: "test.propagation")

            let chat = try await Chat.buildApplication(configuration: ChatConfiguration(
                service: serviceConfiguration(database.stack, for: .chat, redis: redis.endpoint),
                database: DatabaseConfiguration(url: database.roleURL("contexo_chat"), maximumConnections: 4)), logger: logger)
            let ingest = try await Ingest.buildApplication(configuration: IngestConfiguration(
                service: serviceConfiguration(database.stack, for: .ingest, redis: redis.endpoint),
                database: DatabaseConfiguration(url: database.roleURL("contexo_ingest"), maximumConnections: 4)), logger: logger)

            try await chat.test(.live) { _ in
                try await ingest.test(.live) { _ in
                    try await withLiveServer(harness.fake.router) { lemonPort in
                        let billing = try await Billing.buildApplication(
                            configuration: try harness.configuration(lemonPort: lemonPort, redis: redis.endpoint), logger: logger)
                        try await billing.test(.live) { client in
                            let t0 = Date().addingTimeInterval(-3600)
                            let (_, nonce) = try await harness.checkout(client, customer: customer, variant: F.starterMonthly)
                            try await harness.deliver(client, F.subscription(
                                "subscription_created", id: 4242, variant: F.starterMonthly, status: "active",
                                updatedAt: t0, owner: customer, nonce: nonce))
                            let starter = try await Self.eventually(database, ["starter r1 w3", "starter r1 b50000000", "-"])
                            let starterSeen = try await Self.copies(database)
                            #expect(starter, "\(starterSeen)")

                            try await harness.deliver(client, F.subscription(
                                "subscription_updated", id: 4242, variant: F.proMonthly, status: "active",
                                updatedAt: t0.addingTimeInterval(60), owner: customer, nonce: nonce))
                            let pro = try await Self.eventually(database, ["pro r2 w10", "pro r2 b500000000", "-"])
                            let proSeen = try await Self.copies(database)
                            #expect(pro, "\(proSeen)")

                            let (_, creditsNonce) = try await harness.checkout(client, customer: customer, variant: F.credits1000)
                            try await harness.deliver(client, F.order(
                                "order_created", id: 777, variant: F.credits1000, owner: customer, nonce: creditsNonce))
                            try await harness.deliver(client, F.invoice(
                                "subscription_payment_refunded", id: 1, subscription: 4242, status: "refunded"))
                            // Chat used 300 of the 1,000 credits before the pack was refunded: 700 are
                            // taken back, 300 recorded as debt.
                            let credited = try await Self.eventually(database, ["free r4 w1", "free r4 b5000000", "1000/0/0"])
                            let creditedSeen = try await Self.copies(database)
                            #expect(credited, "\(creditedSeen)")
                            try await harness.admin("UPDATE chat.message_credits SET used = 300")
                            try await harness.deliver(client, F.order(
                                "order_refunded", id: 777, variant: F.credits1000, owner: customer, nonce: creditsNonce,
                                status: "refunded", total: 1900, refundedAmount: 1900))
                            let refunded = try await Self.eventually(database, ["free r4 w1", "free r4 b5000000", "1000/700/300"])
                            let refundedSeen = try await Self.copies(database)
                            #expect(refunded, "\(refundedSeen)")
                        }
                    }
                }
            }
        }
    }
}
