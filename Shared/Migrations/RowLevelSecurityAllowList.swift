/// Tables in a service schema that deliberately have no row-level security, each with the reason.
/// Every other table must have RLS enabled and forced; a test reads `pg_class` and fails otherwise
/// (S1.1: tenant isolation is database-level).
public enum RowLevelSecurityAllowList {
    private static let outbox = "transactional outbox: the relay publishes every tenant's events in commit order; rows hold event envelopes, never read by tenant requests"
    private static let inbox = "consumer inbox: event ids already applied, checked across tenants by the stream consumers; holds no tenant content"

    /// `schema.table` → why it holds no tenant data or must be read across tenants.
    public static let tables: [String: String] = [
        "chat.outbox": outbox, "chat.inbox": inbox,
        "ingest.outbox": outbox, "ingest.inbox": inbox,
        "billing.outbox": outbox, "billing.inbox": inbox,
        "chat.widget_directory": "each widget's name and domain allow-list, mirrored by trigger from chat.widgets; the gateway checks a visitor's Origin before any tenant is known; both are public by nature (CORS answers reveal the list, pages show the name)",
        "billing.provider_objects": "maps a Lemon Squeezy subscription or order id to its customer; a webhook must find the tenant before it can open a tenant transaction; ids only, written only after nonce verification",
        "billing.webhook_receipts": "verified webhook deliveries keyed by body hash, checked before the tenant is known so a retry has no second effect; event names and ids only",
    ]
}
