import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// Why a widget change was refused.
public enum WidgetError: Error, ProblemConvertible {
    case limitReached(Int)
    case notFound

    public var problem: Problem {
        switch self {
        case .limitReached(let limit):
            Problem(status: .forbidden, slug: "quota-exceeded", title: "Quota Exceeded",
                    detail: "Your plan allows \(limit) widget\(limit == 1 ? "" : "s"); delete one or upgrade.",
                    extensions: ["quota": ["widgets"]])
        case .notFound:
            Problem.notFound("No such widget.")
        }
    }
}

/// Widgets in `chat.widgets`, always inside a tenant transaction so row-level security applies.
/// Every change announces itself (`chat.widget.changed`) through the outbox in the same transaction,
/// which is how the gateway's CORS cache learns about it.
public struct PostgresWidgetRepository: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// The widget limit of a tenant Billing never sent a plan for.
    let freeLimit: Int
    private let outbox = OutboxWriter(service: .chat)
    private let audit = AuditTrail(service: .chat)

    public init(client: PostgresClient, freeLimit: Int, logger: Logger) {
        self.client = client
        self.freeLimit = freeLimit
        self.logger = logger
    }

    public func list(owner: UUID) async throws -> [Widget] {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM chat.widgets ORDER BY created_at, id"), logger: logger)
            var widgets: [Widget] = []
            for try await row in rows { widgets.append(try Self.widget(row)) }
            return widgets
        }
    }

    public func get(owner: UUID, id: UUID) async throws -> Widget {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            var binds = PostgresBindings()
            binds.append(id)
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM chat.widgets WHERE id = $1", binds: binds), logger: logger)
            for try await row in rows { return try Self.widget(row) }
            throw WidgetError.notFound
        }
    }

    public func create(owner: UUID, name: String, origins: [AllowedOrigin]) async throws -> Widget {
        let domains = origins.map(\.description)
        let freeLimit = self.freeLimit
        let id: UUID
        do {
            id = try await client.withTenantTransaction(owner, logger: logger) { connection in
                let created = try await connection.query(
                    "SELECT chat.create_widget(\(name), \(domains), \(Int32(freeLimit)))", logger: logger
                ).collect().first?.decode(UUID.self)
                guard let created else { throw WidgetError.notFound }
                try await outbox.enqueue(WidgetChanged(widgetID: created, change: .created, allowedDomains: domains),
                                         tenant: owner, on: connection, logger: logger)
                try await audit.record("widget.created", subject: created.uuidString.lowercased(),
                                       detail: ["allowed_domains": .array(domains.map(JSONValue.string))], on: connection, logger: logger)
                return created
            }
        } catch let error as PostgresTransactionError {
            if let limit = Self.quotaLimit(error.closureError) { throw WidgetError.limitReached(limit) }
            throw error
        }
        return try await get(owner: owner, id: id)
    }

    public func update(owner: UUID, id: UUID, name: String?, origins: [AllowedOrigin]?,
                       settings: WidgetSettings = .init()) async throws -> Widget {
        let domains = origins?.map(\.description)
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            var appearance: String?
            if let change = settings.appearance {
                let stored = try await connection.query("SELECT appearance::text FROM chat.widgets WHERE id = \(id) FOR UPDATE",
                                                        logger: logger).collect().first?.decode(String.self)
                guard let stored else { throw WidgetError.notFound }
                appearance = try change.applied(to: WidgetAppearance.stored(stored)).json
            }
            let rows = try await connection.query("""
                UPDATE chat.widgets w SET name = coalesce(\(name), w.name), allowed_domains = coalesce(\(domains), w.allowed_domains),
                    system_prompt = coalesce(\(settings.systemPrompt), w.system_prompt),
                    greeting = coalesce(\(settings.greeting), w.greeting),
                    include_history = coalesce(\(settings.includeHistory), w.include_history),
                    retention_days = coalesce(\(settings.retentionDays.map(Int32.init)), w.retention_days),
                    appearance = coalesce(\(appearance)::jsonb, w.appearance),
                    updated_at = now()
                FROM (SELECT id, allowed_domains, retention_days FROM chat.widgets WHERE id = \(id) FOR UPDATE) before
                WHERE w.id = before.id
                RETURNING w.allowed_domains, before.allowed_domains, w.retention_days, before.retention_days
                """, logger: logger).collect()
            guard let (current, previous, retention, previousRetention) =
                    try rows.first?.decode(([String], [String], Int32, Int32).self) else { throw WidgetError.notFound }
            try await outbox.enqueue(WidgetChanged(widgetID: id, change: .updated, allowedDomains: current),
                                     tenant: owner, on: connection, logger: logger)
            // Where the widget may run and how long conversations are kept are what a security
            // review asks about; the other fields are named only.
            var detail: [String: JSONValue] = ["fields": .array(settings.changedFields(name: name, domains: domains).map(JSONValue.string))]
            if current != previous {
                detail["allowed_domains"] = .object(["before": .array(previous.map(JSONValue.string)),
                                                     "after": .array(current.map(JSONValue.string))])
            }
            if retention != previousRetention {
                detail["retention_days"] = .object(["before": .number(Double(previousRetention)), "after": .number(Double(retention))])
            }
            try await audit.record("widget.updated", subject: id.uuidString.lowercased(), detail: detail, on: connection, logger: logger)
        }
        return try await get(owner: owner, id: id)
    }

    public func delete(owner: UUID, id: UUID) async throws {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query("DELETE FROM chat.widgets WHERE id = \(id) RETURNING name", logger: logger).collect()
            guard let name = try rows.first?.decode(String.self) else { throw WidgetError.notFound }
            try await outbox.enqueue(WidgetChanged(widgetID: id, change: .deleted, allowedDomains: []),
                                     tenant: owner, on: connection, logger: logger)
            try await audit.record("widget.deleted", subject: id.uuidString.lowercased(), detail: ["name": .string(name)],
                                   on: connection, logger: logger)
        }
    }

    /// The allow-list and owner of any widget, for the gateway (no tenant known: the widget id is
    /// public). Nil when the widget does not exist.
    public func allowList(widget id: UUID) async throws -> (owner: UUID, domains: [String])? {
        try await client.withConnection { connection in
            let rows = try await connection.query(
                "SELECT owner_id, allowed_domains FROM chat.widget_directory_entry(\(id))", logger: logger).collect()
            return try rows.first?.decode((UUID, [String]).self)
        }
    }

    /// A widget's display name, greeting and appearance, for its public configuration.
    public func publicSettings(widget id: UUID) async throws -> (name: String, greeting: String, appearance: WidgetAppearance)? {
        try await client.withConnection { connection in
            let row = try await connection.query("""
                SELECT name, greeting, chat.widget_appearance(\(id))::text FROM chat.widget_directory_entry(\(id))
                """, logger: logger).collect().first
            guard let (name, greeting, appearance) = try row?.decode((String, String, String?).self) else { return nil }
            return (name, greeting, WidgetAppearance.stored(appearance))
        }
    }

    static let columns = "id, name, allowed_domains, system_prompt, greeting, include_history, retention_days, created_at, appearance::text"

    static func widget(_ row: PostgresRow) throws -> Widget {
        let (id, name, domains, prompt, greeting, history, retention, created, appearance) =
            try row.decode((UUID, String, [String], String, String, Bool, Int32, Date, String).self)
        return Widget(id: id, name: name, allowedDomains: domains, systemPrompt: prompt, greeting: greeting,
                      includeHistory: history, retentionDays: Int(retention), appearance: WidgetAppearance.stored(appearance),
                      createdAt: created)
    }

    static func quotaLimit(_ error: (any Error)?) -> Int? {
        guard let psql = error as? PSQLError, let hint = psql.serverInfo?[.hint], hint.hasPrefix("quota:widgets:") else { return nil }
        return Int(hint.dropFirst("quota:widgets:".count))
    }
}
