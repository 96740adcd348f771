import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// Reads and recomputes a customer's entitlement snapshot (`billing.entitlements`) from their
/// subscriptions and credit grants. Every change of terms bumps the revision and puts
/// `billing.entitlements.changed` in the outbox in the same transaction.
struct EntitlementLedger: Sendable {
    let catalog: PlanCatalog
    let outbox = OutboxWriter(service: .billing)

    /// Statuses that keep a paid plan's limits (a cancelled subscription keeps them until `ends_at`).
    static let accessStatuses: Set<String> = ["on_trial", "active", "past_due"]

    /// The current snapshot; the free plan when the customer never had one. Must run in `owner`'s
    /// tenant transaction.
    func current(owner: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Entitlement {
        let rows = try await connection.query("""
            SELECT plan, status, widgets, messages_per_month, knowledge_bytes, period_end, portal_url,
                   credits_granted, credits_revoked, revision, updated_at
            FROM billing.entitlements WHERE owner_id = \(owner)
            """, logger: logger)
        for try await row in rows {
            let (plan, status, widgets, messages, bytes, periodEnd, portal, granted, revoked, revision, updated) =
                try row.decode((String, String, Int?, Int?, Int64?, Date?, String?, Int64, Int64, Int64, Date).self)
            let fallback = catalog.limits(plan: plan)
            return Entitlement(
                plan: plan, status: status,
                limits: PlanLimits(widgets: widgets ?? fallback.widgets, messagesPerMonth: messages ?? fallback.messagesPerMonth,
                                   knowledgeBytes: bytes ?? fallback.knowledgeBytes),
                periodEnd: periodEnd, credits: .init(granted: granted, revoked: revoked), portalURL: portal,
                revision: revision, updatedAt: updated)
        }
        return .free(catalog.free)
    }

    /// Recomputes the snapshot from the customer's subscriptions and grants; if the terms changed,
    /// stores it with the next revision and enqueues `billing.entitlements.changed`.
    @discardableResult
    func recompute(owner: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Entitlement {
        // Serialises concurrent recomputations for one customer (two webhooks at once).
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtext('contexo.billing.entitlements'), hashtext(\(owner.uuidString)))",
            logger: logger)
        let previous = try await current(owner: owner, on: connection, logger: logger)
        var next = Entitlement.free(catalog.free)
        next.credits = previous.credits

        let subscriptions = try await connection.query("""
            SELECT variant_id, status, renews_at, ends_at, portal_url FROM billing.subscriptions
            WHERE owner_id = \(owner) AND refunded_at IS NULL
              AND (status = ANY(\(Array(Self.accessStatuses))) OR (status = 'cancelled' AND ends_at > now()))
            ORDER BY provider_updated_at DESC
            """, logger: logger)
        for try await (variant, status, renews, ends, portal) in subscriptions.decode((Int64, String, Date?, Date?, String?).self) {
            guard case .plan(let plan)? = catalog.product(variant: variant) else { continue }
            next.plan = plan.id
            next.status = status
            next.limits = plan.limits
            next.periodEnd = status == "cancelled" ? ends : renews
            next.portalURL = portal
            break
        }
        let credits = try await connection.query("""
            SELECT coalesce(sum(credits), 0)::bigint, coalesce(sum(revoked), 0)::bigint
            FROM billing.credit_grants WHERE owner_id = \(owner)
            """, logger: logger)
        for try await (granted, revoked) in credits.decode((Int64, Int64).self) {
            next.credits = .init(granted: granted, revoked: revoked)
        }
        guard !next.sameTerms(as: previous) else { return previous }

        next.revision = previous.revision + 1
        try await connection.query("""
            INSERT INTO billing.entitlements AS e (owner_id, plan, status, widgets, messages_per_month, knowledge_bytes,
                period_end, portal_url, credits_granted, credits_revoked, revision, updated_at)
            VALUES (\(owner), \(next.plan), \(next.status), \(next.limits.widgets), \(next.limits.messagesPerMonth),
                \(next.limits.knowledgeBytes), \(next.periodEnd), \(next.portalURL), \(next.credits.granted),
                \(next.credits.revoked), \(next.revision), now())
            ON CONFLICT (owner_id) DO UPDATE SET plan = excluded.plan, status = excluded.status, widgets = excluded.widgets,
                messages_per_month = excluded.messages_per_month, knowledge_bytes = excluded.knowledge_bytes,
                period_end = excluded.period_end, portal_url = excluded.portal_url,
                credits_granted = excluded.credits_granted, credits_revoked = excluded.credits_revoked,
                revision = excluded.revision, updated_at = now()
            """, logger: logger)
        if next.plan != previous.plan || next.status != previous.status || next.limits != previous.limits
            || next.periodEnd != previous.periodEnd || previous.revision == 0 {
            try await outbox.enqueue(
                EntitlementsChanged(plan: next.plan, status: next.status, limits: next.limits,
                                    periodEnd: next.periodEnd, revision: next.revision),
                tenant: owner, on: connection, logger: logger)
        }
        logger.info("entitlements changed", metadata: [
            "owner": "\(owner)", "plan": "\(next.plan)", "status": "\(next.status)", "revision": "\(next.revision)"])
        return next
    }
}
