import Platform
import PostgresNIO

/// Where a customer's data lives in Chat: what an export reads (``export``) and what an account
/// deletion erases (``TenantErasure``). The export test checks the list against the catalog.
enum ChatAccountData {
    static let export = AccountExport(service: "chat", tables: [
        .rows("chat.widgets", orderBy: "created_at, id"),
        AccountExport.Table("chat.widget_directory", query: "SELECT chat.export_widget_directory()"),
        .rows("chat.visitor_sessions", without: ["ip_hash"], orderBy: "created_at, id",
              because: "a keyed hash of the visitor's IP address, used only for abuse limits (S5.2)"),
        .rows("chat.messages", orderBy: "created_at, id"),
        .rows("chat.feedback", orderBy: "created_at, message_id"),
        .rows("chat.handoff_requests", orderBy: "created_at, id"),
        .rows("chat.webhook_endpoints", without: ["secret", "previous_secret"], orderBy: "created_at, id",
              because: "signing secrets are credentials, not account data; rotating one makes a new one"),
        .rows("chat.webhook_deliveries", orderBy: "created_at, id"),
        .rows("chat.webhook_attempts", orderBy: "attempted_at, id"),
        AccountExport.Table("chat.webhook_queue", query: "SELECT chat.export_webhook_queue()"),
        .rows("chat.message_usage", orderBy: "period"),
        .rows("chat.message_credits", orderBy: "owner_id"),
        .rows("chat.tenant_entitlements", orderBy: "owner_id"),
        AccountExport.Table("chat.audit_trail", query: "SELECT chat.export_audit_trail()"),
    ])

    static let audit = AuditTrail(service: .chat)
}

/// `account.deleted`: the tenant's widgets (and with them sessions and messages), webhook endpoints
/// (and their deliveries), usage, credits and entitlement copy are erased in the consumer's transaction.
enum TenantErasure {
    static let chat: EventHandler = { envelope, connection, logger in
        guard let tenant = envelope.tenantID else { return }
        try await connection.setTenant(tenant, logger: logger)
        for table in ["chat.widgets", "chat.webhook_endpoints", "chat.message_usage", "chat.message_credits", "chat.tenant_entitlements"] {
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: logger)
        }
        try await connection.query("SELECT chat.erase_audit_trail()", logger: logger)
    }
}

/// S9.3: finished webhook deliveries older than the retention go, with their attempts.
let webhookRecordPurge: RecordRetention.Purge = { connection, cutoff, logger in
    let purged = try await connection.query("SELECT chat.purge_webhook_deliveries(\(cutoff))", logger: logger)
        .collect().first?.decode(Int.self) ?? 0
    return ["webhook_deliveries": purged]
}
