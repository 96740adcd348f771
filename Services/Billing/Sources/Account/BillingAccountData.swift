import Logging
import Platform
import PostgresNIO

/// Where a tenant's data lives in Billing: one list for erasure (and the catalog test that checks
/// no table with an `owner_id` is forgotten).
enum AccountData {
    /// Tables the service role reaches under row-level security; the definer-only lookups
    /// (`provider_objects`, `webhook_receipts`) go through `billing.erase_tenant_lookups()`.
    static let billingTables = ["checkout_nonces", "subscriptions", "credit_grants", "entitlements", "account_deletions"]

    /// What a data export reads in Billing (the export test checks it against the catalog).
    static let export = AccountExport(service: "billing", tables: [
        .rows("billing.entitlements", orderBy: "owner_id"),
        .rows("billing.subscriptions", orderBy: "created_at, subscription_id"),
        .rows("billing.credit_grants", orderBy: "created_at, grant_id"),
        .rows("billing.checkout_nonces", without: ["nonce_hash"], orderBy: "created_at",
              because: "the hash of a checkout's one-time secret"),
        .rows("billing.account_deletions", orderBy: "requested_at"),
        AccountExport.Table("billing.provider_objects", query: "SELECT billing.export_provider_objects()"),
        AccountExport.Table("billing.webhook_receipts", query: "SELECT billing.export_webhook_receipts()",
                            omitted: "body_sha256: identifies a delivery, says nothing about the customer"),
        AccountExport.Table("billing.audit_trail", query: "SELECT billing.export_audit_trail()"),
    ])

    static let audit = AuditTrail(service: .billing)

    /// Deletes every row of the transaction's tenant: the tables under row-level security, then the
    /// definer-only lookups through the one function that may touch them.
    static func erase(on connection: PostgresConnection, logger: Logger) async throws {
        for table in billingTables {
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM billing.\(table)"), logger: logger)
        }
        try await connection.query("SELECT billing.erase_tenant_lookups()", logger: logger)
        try await connection.query("SELECT billing.erase_audit_trail()", logger: logger)
    }
}
