import Contract
import Foundation
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// Closes a customer's account, in an order that can be retried from any point:
///
/// 1. the deletion is recorded (`billing.account_deletions`), and no new checkout starts after it;
/// 2. every subscription that still renews is cancelled through Lemon Squeezy's API (stored as
///    cancelled at once, so a retry does not cancel twice);
/// 3. the identity is deleted through Supabase Auth's admin API (already gone counts as done);
/// 4. one transaction erases all of Billing's rows of the tenant, the deletion record included,
///    and puts `account.deleted` in the outbox, after which Chat and Ingest erase theirs and every
///    gateway refuses the customer's tokens.
///
/// A failure at 2 or 3 leaves the record and answers 503: asking again finishes the job.
struct AccountDeletion: Sendable {
    let postgres: PostgresClient
    let lemonSqueezy: LemonSqueezyCheckoutClient?
    let identities: IdentityAdminClient?
    let logger: Logger
    let outbox = OutboxWriter(service: .billing)

    /// Statuses of a subscription that would still charge or grant something; the others
    /// (`cancelled`, `expired`) are over already.
    static let liveStatuses = ["on_trial", "active", "paused", "past_due", "unpaid"]

    /// What the deletion did.
    struct Outcome: ResponseEncodable, Equatable {
        var status = "deleted"
        var subscriptionsCancelled: Int
        /// `deleted`, `already_gone`, or `not_configured` (no Supabase admin key on this server).
        var identity: String

        enum CodingKeys: String, CodingKey {
            case status, identity
            case subscriptionsCancelled = "subscriptions_cancelled"
        }
    }

    func delete(owner: UUID) async throws -> Outcome {
        let live = try await postgres.withTenantTransaction(owner, logger: logger) { connection in
            try await Self.lock(owner, on: connection, logger: logger)
            try await connection.query("""
                INSERT INTO billing.account_deletions (owner_id) VALUES (\(owner))
                ON CONFLICT (owner_id) DO UPDATE SET attempts = billing.account_deletions.attempts + 1
                """, logger: logger)
            let rows = try await connection.query(
                "SELECT subscription_id FROM billing.subscriptions WHERE status = ANY(\(Self.liveStatuses)) ORDER BY subscription_id",
                logger: logger)
            var ids: [Int64] = []
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            return ids
        }
        logger.notice("account deletion started", metadata: ["owner": "\(owner)", "live_subscriptions": "\(live.count)"])
        if !live.isEmpty, lemonSqueezy == nil {
            throw Problem.serviceUnavailable(
                "This account has a subscription, and this server cannot reach the payment provider to cancel it.")
        }
        for subscription in live {
            let result = try await lemonSqueezy!.cancelSubscription(subscription)
            _ = try await postgres.withTenantTransaction(owner, logger: logger) { connection in
                try await connection.query("""
                    UPDATE billing.subscriptions SET status = 'cancelled', updated_at = now()
                    WHERE subscription_id = \(subscription)
                    """, logger: logger)
            }
            logger.notice("subscription cancelled for an account deletion",
                          metadata: ["owner": "\(owner)", "subscription": "\(subscription)", "provider": "\(result)"])
        }
        let identity = try await identities?.deleteUser(owner).rawValue ?? "not_configured"
        if identities == nil {
            logger.warning("no Supabase admin key: the identity of a deleted account stays with the sign-in provider",
                           metadata: ["owner": "\(owner)"])
        }
        try await erase(owner: owner)
        logger.notice("account deleted", metadata: ["owner": "\(owner)", "identity": "\(identity)"])
        return Outcome(subscriptionsCancelled: live.count, identity: identity)
    }

    /// Billing's own rows of the tenant, and the announcement, in one transaction.
    func erase(owner: UUID) async throws {
        try await postgres.withTenantTransaction(owner, logger: logger) { connection in
            try await Self.lock(owner, on: connection, logger: logger)
            try await AccountData.erase(on: connection, logger: logger)
            try await outbox.enqueue(AccountDeleted(requestedAt: Date()), tenant: owner, on: connection, logger: logger)
        }
    }

    /// Serialises everything that writes a tenant's billing state from outside (webhooks) with its
    /// deletion, for the rest of the transaction.
    static func lock(_ owner: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtext('contexo.billing.account'), hashtext(\(owner.uuidString.lowercased())))",
            logger: logger)
    }

    /// Whether a deletion of `owner` has begun (checkouts are refused from then on).
    static func isPending(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT 1 FROM billing.account_deletions", logger: logger)
        for try await _ in rows.decode(Int32.self) { return true }
        return false
    }
}
