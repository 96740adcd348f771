import Contract
import Foundation
import Logging
import PostgresNIO

/// A service's own copy of each tenant's plan limits and message credits, kept from Billing's
/// events (`billing.entitlements.changed`, `billing.credits.granted`, `billing.credits.revoked`).
/// Quota functions read this copy inside the service's own transactions (S4.1), so a quota check
/// never waits on Billing.
///
/// Expects `<schema>.tenant_entitlements` and `<schema>.message_credits` (see each service's
/// migrations). Limits apply only if their revision is newer than the stored one, so a change
/// delivered late never rolls the limits back.
public struct EntitlementCopy: Sendable {
    public let schema: String
    /// Whether this service meters messages (and so keeps `<schema>.message_credits`).
    public let keepsCredits: Bool

    public init(schema: String, keepsCredits: Bool) {
        precondition(schema.allSatisfy { $0.isLetter || $0 == "_" })
        self.schema = schema
        self.keepsCredits = keepsCredits
    }

    public var handlers: [String: EventHandler] {
        let schema = self.schema
        var handlers: [String: EventHandler] = [
            EntitlementsChanged.type: { envelope, connection, logger in
                guard let tenant = envelope.tenantID else { return }
                let change = try envelope.decode(EntitlementsChanged.self)
                try await connection.setTenant(tenant, logger: logger)
                var binds = PostgresBindings()
                binds.append(tenant)
                binds.append(change.plan)
                binds.append(change.status)
                binds.append(change.limits.widgets)
                binds.append(change.limits.messagesPerMonth)
                binds.append(change.limits.knowledgeBytes)
                binds.append(change.periodEnd)
                binds.append(change.revision)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(schema).tenant_entitlements AS t (owner_id, plan, status, widgets, messages_per_month,
                        knowledge_bytes, period_end, revision)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    ON CONFLICT (owner_id) DO UPDATE SET plan = excluded.plan, status = excluded.status,
                        widgets = excluded.widgets, messages_per_month = excluded.messages_per_month,
                        knowledge_bytes = excluded.knowledge_bytes, period_end = excluded.period_end,
                        revision = excluded.revision, updated_at = now()
                    WHERE t.revision < excluded.revision
                    """, binds: binds), logger: logger)
            },
        ]
        guard keepsCredits else { return handlers }
        handlers.merge([
            CreditsGranted.type: { envelope, connection, logger in
                guard let tenant = envelope.tenantID else { return }
                let grant = try envelope.decode(CreditsGranted.self)
                try await connection.setTenant(tenant, logger: logger)
                var binds = PostgresBindings()
                binds.append(tenant)
                binds.append(grant.credits)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(schema).message_credits AS c (owner_id, granted) VALUES ($1, $2)
                    ON CONFLICT (owner_id) DO UPDATE SET granted = c.granted + excluded.granted, updated_at = now()
                    """, binds: binds), logger: logger)
            },
            CreditsRevoked.type: { envelope, connection, logger in
                guard let tenant = envelope.tenantID else { return }
                let revocation = try envelope.decode(CreditsRevoked.self)
                try await connection.setTenant(tenant, logger: logger)
                // Never below what was already used: what cannot be taken back is recorded as debt.
                var binds = PostgresBindings()
                binds.append(tenant)
                binds.append(revocation.credits)
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(schema).message_credits AS c (owner_id, granted, revoked, debt) VALUES ($1, 0, 0, $2)
                    ON CONFLICT (owner_id) DO UPDATE SET
                        revoked = c.revoked + least(excluded.debt, greatest(c.granted - c.used - c.revoked, 0)),
                        debt = c.debt + excluded.debt - least(excluded.debt, greatest(c.granted - c.used - c.revoked, 0)),
                        updated_at = now()
                    """, binds: binds), logger: logger)
            },
        ]) { first, _ in first }
        return handlers
    }
}
