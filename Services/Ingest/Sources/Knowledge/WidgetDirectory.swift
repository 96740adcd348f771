import AsyncHTTPClient
import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// Which widgets a customer owns, as Ingest knows it: its own copy (`ingest.widgets`, kept from
/// `chat.widget.changed`), and Chat's answer for a widget it has not heard of yet. A document is
/// accepted only for one of the customer's own widgets.
public struct WidgetDirectory: Sendable {
    let postgres: PostgresClient
    let chat: ChatWidgetLookup
    let logger: Logger

    public init(postgres: PostgresClient, chat: ChatWidgetLookup, logger: Logger) {
        self.postgres = postgres
        self.chat = chat
        self.logger = logger
    }

    /// Returns when `widget` is `owner`'s; a 422 naming `widget_id` when it is not (another
    /// customer's, deleted, or never created); a 503 when Chat cannot be asked.
    public func requireOwned(_ widget: UUID, by owner: UUID, requestID: String) async throws {
        let logger = self.logger
        let known = try await postgres.withTenantTransaction(owner, logger: logger) { connection in
            try await connection.query("SELECT 1 FROM ingest.widgets WHERE id = \(widget)", logger: logger)
                .collect().isEmpty == false
        }
        if known { return }
        guard try await chat.owns(owner, widget, requestID: requestID) else {
            throw Problem.unprocessable("widget_id names no widget of yours.", fields: ["widget_id"])
        }
        _ = try await postgres.withTenantTransaction(owner, logger: logger) { connection in
            try await connection.query("""
                INSERT INTO ingest.widgets (id, owner_id) VALUES (\(widget), \(owner)) ON CONFLICT (id) DO NOTHING
                """, logger: logger)
        }
    }

    /// `chat.widget.changed`: a created or changed widget is remembered as its owner's; a deleted one
    /// is forgotten and its documents (with their sources and chunks) go, so they stop counting
    /// against the customer's storage. Row-level security confines both to the event's tenant.
    static let widgetChanged: EventHandler = { envelope, connection, logger in
        guard let tenant = envelope.tenantID else { return }
        let change = try envelope.decode(WidgetChanged.self)
        try await connection.setTenant(tenant, logger: logger)
        switch change.change {
        case .created, .updated:
            try await connection.query("""
                INSERT INTO ingest.widgets (id, owner_id) VALUES (\(change.widgetID), \(tenant)) ON CONFLICT (id) DO NOTHING
                """, logger: logger)
        case .deleted:
            try await connection.query("DELETE FROM ingest.widgets WHERE id = \(change.widgetID)", logger: logger)
            try await connection.query("DELETE FROM ingest.documents WHERE widget_id = \(change.widgetID)", logger: logger)
        }
    }
}

/// Asks Chat whether a widget is a customer's: `GET /v1/widgets/{id}` with an internal token Ingest
/// mints for that customer (audience `chat`), which Chat answers from inside that tenant's rows.
public struct ChatWidgetLookup: Sendable {
    let chat: ServiceClient
    let logger: Logger

    public init(baseURL: URL, client: HTTPClient, issuer: InternalTokenIssuer, timeout: Duration = .seconds(5), logger: Logger) {
        chat = ServiceClient(.chat, at: baseURL, http: client, issuer: issuer, timeout: timeout)
        self.logger = logger
    }

    func owns(_ owner: UUID, _ widget: UUID, requestID: String) async throws(Problem) -> Bool {
        let status: UInt
        do {
            status = try await chat.get("/v1/widgets/\(widget.uuidString.lowercased())", customer: owner, requestID: requestID,
                                        maximumBytes: 256 * 1024).status
        } catch {
            logger.warning("widget lookup in chat failed", metadata: ["widget": "\(widget)", "error": "\(error)"])
            throw Problem.serviceUnavailable("The widget service is unavailable. Try again shortly.").with(header: "Retry-After", "1")
        }
        switch status {
        case 200: return true
        case 404: return false
        default:
            logger.warning("widget lookup in chat refused", metadata: ["widget": "\(widget)", "status": "\(status)"])
            throw Problem.serviceUnavailable("The widget service is unavailable. Try again shortly.").with(header: "Retry-After", "1")
        }
    }
}
