import Foundation
import Logging
import Platform
import PostgresNIO

/// Where widgets are stored. Every call is scoped to one customer.
public protocol WidgetRepository: Sendable {
    func list(owner: UUID) async throws -> [Widget]
}

/// Widgets in `chat.widgets`, read inside a tenant transaction so row-level security applies.
public struct PostgresWidgetRepository: WidgetRepository {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func list(owner: UUID) async throws -> [Widget] {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT id, name, allowed_domains, created_at FROM chat.widgets ORDER BY created_at, id",
                logger: logger)
            var widgets: [Widget] = []
            for try await (id, name, domains, created) in rows.decode((UUID, String, [String], Date).self) {
                widgets.append(Widget(id: id, name: name, allowedDomains: domains, createdAt: created))
            }
            return widgets
        }
    }
}
