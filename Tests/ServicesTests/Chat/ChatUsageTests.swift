@testable import Chat
import Foundation
import HummingbirdTesting
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// `GET /v1/chat/usage`, the messages and widgets part of the account page: this month against the
/// allowance, widgets against the limit, and twelve months of messages, the plan's and the
/// credits' counted apart (a refunded credit message is taken back from its month).
@Suite(.timeLimit(.minutes(5))) struct ChatUsageTests {
    @Test func usageShowsWidgetsAndTwelveMonthsOfPlanAndCreditMessages() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), other = UUID()
            let logger = Logger(label: "test")
            _ = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            try await database.withConnection(database.adminURL) { connection in
                // Three months ago, and another tenant this month (never counted).
                try await connection.query("""
                    INSERT INTO chat.message_usage (owner_id, period, used, credit_used) VALUES
                      (\(owner), (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '3 months')::date, 40, 2),
                      (\(owner), (date_trunc('month', now() AT TIME ZONE 'UTC') - interval '13 months')::date, 99, 0),
                      (\(other), date_trunc('month', now() AT TIME ZONE 'UTC')::date, 7, 0)
                    """, logger: logger)
                try await connection.query("""
                    INSERT INTO chat.tenant_entitlements (owner_id, plan, status, widgets, messages_per_month, knowledge_bytes, revision)
                    VALUES (\(owner), 'starter', 'active', 3, 1, 1000, 1)
                    """, logger: logger)
                try await connection.query("INSERT INTO chat.message_credits (owner_id, granted) VALUES (\(owner), 5)", logger: logger)
            }
            // Three messages this month: the allowance of one, then two credits, one refunded.
            try await PostgresClientBox(url: database.roleURL("contexo_chat")).run { client in
                let metered = try await TestStack.asTenant(owner) { try await client.withTenantTransaction(owner, logger: logger) { connection in
                    var kinds: [String] = []
                    for _ in 0..<3 {
                        kinds.append(try await connection.query("SELECT chat.meter_message(100)", logger: logger)
                            .collect().first!.decode(String.self))
                    }
                    try await connection.query(
                        "SELECT chat.refund_message('credit', date_trunc('month', now() AT TIME ZONE 'UTC')::date)", logger: logger)
                    return kinds
                } }
                #expect(metered == ["plan", "credit", "credit"])
            }
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                let usage = try await ChatHarness.customer(client, "/v1/chat/usage", owner: owner)
                #expect(usage.status == .ok)
                let json = usage.json
                #expect(json["messages_used"] as? Int == 1 && json["messages_allowance"] as? Int == 1)
                #expect(json["credits_remaining"] as? Int == 4)
                #expect(json["widgets_used"] as? Int == 1 && json["widgets_limit"] as? Int == 3)
                let history = json["history"] as? [[String: Any]] ?? []
                #expect(history.count == 12)
                #expect(history.last?["period"] as? String == json["period"] as? String)
                #expect(history.last?["plan"] as? Int == 1 && history.last?["credits"] as? Int == 1)
                #expect(history[8]["plan"] as? Int == 40 && history[8]["credits"] as? Int == 2, "three months ago")
                #expect(history.map { $0["plan"] as? Int ?? -1 }.reduce(0, +) == 41, "thirteen months ago is outside the window")
            }
        }
    }
}
