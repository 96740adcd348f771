@testable import Billing
import Contract
import Foundation
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// S9.3: operational records are purged once older than the retention, and nothing younger goes.
@Suite(.timeLimit(.minutes(5))) struct RecordRetentionTests {
    static let logger = Logger(label: "test.retention")

    static func count(_ database: TestDatabase, _ sql: String) async throws -> Int {
        try await database.withConnection(database.adminURL) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().first?.decode(Int.self) ?? -1
        }
    }

    @Test func expiredInboxRowsDeadLettersReceiptsAndNoncesArePurgedAndNothingYounger() async throws {
        let redis = try RedisServerProcess(withUsers: true)
        try await redis.start()
        defer { redis.stop() }
        try await withTestDatabase { database in
            let owner = UUID()
            try await database.withConnection(database.adminURL) { connection in
                for age in ["100 days", "10 days"] {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        INSERT INTO chat.inbox (consumer, event_id, stream_entry, processed_at) VALUES ('chat', gen_random_uuid(), '1-0', now() - interval '\(age)');
                        """), logger: Self.logger)
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        INSERT INTO billing.webhook_receipts (body_sha256, event_name, object_type, object_id, outcome, received_at)
                        VALUES (sha256(gen_random_uuid()::text::bytea), 'order_created', 'orders', '1', 'applied', now() - interval '\(age)')
                        """), logger: Self.logger)
                }
                // An audit entry past the retention, and a recent one.
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO chat.audit_trail (owner_id, at, actor, action) VALUES
                      ('\(owner)', now() - interval '100 days', 'customer', 'widget.created'),
                      ('\(owner)', now() - interval '10 days', 'customer', 'widget.deleted')
                    """), logger: Self.logger)
                // A used event ticket that expired, and one still valid.
                for expires in ["-1 hour", "1 hour"] {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        INSERT INTO contexo_tickets.admitted_events (role, event_id, admitted_by, expires_at)
                        VALUES ('contexo_chat', gen_random_uuid(), '1'::xid8, now() + interval '\(expires)')
                        """), logger: Self.logger)
                }
                // Spent long ago, expired long ago, and one still open (created long ago, valid for a while).
                for (created, expires, consumed) in [("100 days", "99 days", "NULL"), ("100 days", "99 days", "now() - interval '100 days'"),
                                                     ("100 days", "-1 day", "NULL")] {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        INSERT INTO billing.checkout_nonces (nonce_hash, owner_id, variant_id, purpose, created_at, expires_at, consumed_at)
                        VALUES (sha256(gen_random_uuid()::text::bytea), '\(owner)', 1, 'credits', now() - interval '\(created)',
                                now() - interval '\(expires)', \(consumed))
                        """), logger: Self.logger)
                }
            }
            let admin = RedisClient(endpoint: redis.endpoint)
            defer { Task { await admin.shutdown() } }
            let deadLetters = EventStream.billing.deadLetter.key
            try await admin.send("XADD", deadLetters, String(Int64(Date().addingTimeInterval(-100 * 86_400).timeIntervalSince1970 * 1000)) + "-0", "error", "old")
            try await admin.send("XADD", deadLetters, "*", "error", "recent")

            let retention = Duration.seconds(90 * 86_400)
            // Chat, as its own database role and Redis user.
            let chatRedis = RedisClient(endpoint: redis.endpoint(for: .chat))
            let chatRemoved = try await PostgresClientBox(url: database.roleURL("contexo_chat")).run { postgres in
                try await RecordRetention(schema: "chat", postgres: postgres, redis: chatRedis, deadLetters: [.billing],
                                          retention: retention, logger: Self.logger).purge()
            }
            await chatRedis.shutdown()
            #expect(chatRemoved["inbox"] == 1 && chatRemoved["dead_letters"] == 1 && chatRemoved["event_tickets"] == 1
                    && chatRemoved["audit_trail"] == 1, "\(chatRemoved)")
            #expect(try await Self.count(database, "SELECT count(*)::int FROM contexo_tickets.admitted_events") == 1)
            #expect(try await Self.count(database, "SELECT count(*)::int FROM chat.inbox") == 1)
            #expect(try await admin.send("XLEN", deadLetters).integer == 1)

            // Billing, as its own role: receipts and spent or expired nonces through its purge function.
            let billingRedis = RedisClient(endpoint: redis.endpoint(for: .billing))
            let billingRemoved = try await PostgresClientBox(url: database.roleURL("contexo_billing")).run { postgres in
                try await RecordRetention(schema: "billing", postgres: postgres, redis: billingRedis, deadLetters: [],
                                          purges: [billingRecordPurge], retention: retention, logger: Self.logger).purge()
            }
            await billingRedis.shutdown()
            #expect(billingRemoved["webhook_receipts"] == 1 && billingRemoved["checkout_nonces"] == 2, "\(billingRemoved)")
            #expect(try await Self.count(database, "SELECT count(*)::int FROM billing.webhook_receipts") == 1)
            #expect(try await Self.count(database, "SELECT count(*)::int FROM billing.checkout_nonces WHERE consumed_at IS NULL AND expires_at > now()") == 1)

            // The purge function never takes records younger than a day, whatever it is asked.
            let refused = try await PostgresClientBox(url: database.roleURL("contexo_billing")).run { postgres in
                do {
                    _ = try await postgres.query("SELECT * FROM billing.purge_expired_records(now())", logger: Self.logger).collect()
                    return "allowed"
                } catch let error as PSQLError {
                    return error.serverInfo?[.sqlState] ?? "?"
                }
            }
            #expect(refused == "22023")
        }
    }
}
