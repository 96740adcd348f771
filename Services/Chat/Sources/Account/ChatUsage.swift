import Foundation
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// What a customer used of Chat's quotas: widgets, this month's messages (the plan's allowance,
/// add-on credits and any debt a refund left) and messages per month for the last twelve months.
struct ChatUsage: ResponseEncodable, Equatable {
    let period: String
    let messagesUsed: Int
    let messagesAllowance: Int
    let messagesRemaining: Int
    let creditsRemaining: Int64
    let creditDebt: Int64
    let widgetsUsed: Int
    let widgetsLimit: Int
    /// Oldest month first, the current month last; months without messages are 0.
    let history: [Month]

    /// One calendar month (UTC): messages answered from the plan and from credits.
    struct Month: Codable, Equatable {
        let period: String
        let plan: Int
        let credits: Int
    }

    enum CodingKeys: String, CodingKey {
        case period, history
        case messagesUsed = "messages_used"
        case messagesAllowance = "messages_allowance"
        case messagesRemaining = "messages_remaining"
        case creditsRemaining = "credits_remaining"
        case creditDebt = "credit_debt"
        case widgetsUsed = "widgets_used"
        case widgetsLimit = "widgets_limit"
    }
}

/// Reads ``ChatUsage`` in one tenant transaction, so its numbers agree with each other.
struct ChatUsageStore: Sendable {
    let client: PostgresClient
    /// The limits of a tenant Billing never announced a plan for.
    let freeMessageAllowance: Int
    let freeWidgetLimit: Int
    let logger: Logger

    func usage(owner: UUID) async throws -> ChatUsage {
        let free = Int32(freeMessageAllowance), freeWidgets = Int32(freeWidgetLimit)
        return try await client.withTenantTransaction(owner, logger: logger) { connection in
            let row = try await connection.query("""
                SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC'), 'YYYY-MM'),
                       coalesce((SELECT used FROM chat.message_usage
                                 WHERE period = date_trunc('month', now() AT TIME ZONE 'UTC')::date), 0),
                       coalesce((SELECT messages_per_month FROM chat.tenant_entitlements), \(free)),
                       coalesce((SELECT greatest(granted - used - revoked, 0) FROM chat.message_credits), 0)::bigint,
                       coalesce((SELECT debt FROM chat.message_credits), 0)::bigint,
                       (SELECT count(*) FROM chat.widgets)::int,
                       coalesce((SELECT widgets FROM chat.tenant_entitlements), \(freeWidgets))
                """, logger: logger).collect().first
            let (period, used, allowance, credits, debt, widgets, widgetLimit) =
                try row!.decode((String, Int32, Int32, Int64, Int64, Int32, Int32).self)
            let months = try await connection.query("""
                SELECT to_char(m, 'YYYY-MM'), coalesce(u.used, 0), coalesce(u.credit_used, 0)
                FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC') - interval '11 months',
                                     date_trunc('month', now() AT TIME ZONE 'UTC'), interval '1 month') AS m
                LEFT JOIN chat.message_usage u ON u.period = m::date
                ORDER BY m
                """, logger: logger)
            var history: [ChatUsage.Month] = []
            for try await (month, plan, credit) in months.decode((String, Int32, Int32).self) {
                history.append(.init(period: month, plan: Int(plan), credits: Int(credit)))
            }
            return ChatUsage(
                period: period, messagesUsed: Int(used), messagesAllowance: Int(allowance),
                messagesRemaining: max(Int(allowance) - Int(used), 0), creditsRemaining: credits, creditDebt: debt,
                widgetsUsed: Int(widgets), widgetsLimit: Int(widgetLimit), history: history)
        }
    }
}
