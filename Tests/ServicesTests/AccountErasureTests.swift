@testable import Chat
import Contract
import Foundation
@testable import Ingest
import Logging
import Platform
import PostgresNIO
import Testing
import TestSupport

/// `account.deleted` erases the tenant's data in Chat and Ingest, and nobody else's: the handlers
/// run as each service's own role, in a transaction, as the consumer runs them.
@Suite(.timeLimit(.minutes(5))) struct AccountErasureTests {
    static func seed(_ database: TestDatabase, owners: [UUID]) async throws {
        try await database.withConnection(database.adminURL) { connection in
            for owner in owners {
                let widget = UUID(), session = UUID(), document = UUID()
                try await connection.query("""
                    INSERT INTO chat.widgets (id, owner_id, name) VALUES (\(widget), \(owner), 'W')
                    """, logger: Logger(label: "test"))
                try await connection.query("""
                    INSERT INTO chat.visitor_sessions (id, owner_id, widget_id, ip_hash, expires_at)
                    VALUES (\(session), \(owner), \(widget), \(String(repeating: "a", count: 64)), now() + interval '1 hour')
                    """, logger: Logger(label: "test"))
                try await connection.query("""
                    INSERT INTO chat.messages (owner_id, widget_id, session_id, role, content) VALUES (\(owner), \(widget), \(session), 'visitor', 'hi')
                    """, logger: Logger(label: "test"))
                try await connection.query("INSERT INTO chat.message_usage (owner_id, period, used) VALUES (\(owner), '2026-11-01', 3) ON CONFLICT DO NOTHING",
                                           logger: Logger(label: "test"))
                try await connection.query("INSERT INTO ingest.widgets (id, owner_id) VALUES (\(widget), \(owner))",
                                           logger: Logger(label: "test"))
                try await connection.query("""
                    INSERT INTO ingest.documents (id, owner_id, widget_id, title, source_kind, byte_size) VALUES (\(document), \(owner), \(widget), 'D', 'text', 2)
                    """, logger: Logger(label: "test"))
                try await connection.query("""
                    INSERT INTO ingest.document_sources (document_id, owner_id, body) VALUES (\(document), \(owner), '\\x6869')
                    """, logger: Logger(label: "test"))
            }
        }
    }

    static func counts(_ database: TestDatabase, owner: UUID) async throws -> [Int] {
        try await database.withConnection(database.adminURL) { connection in
            var counts: [Int] = []
            for table in ["chat.widgets", "chat.visitor_sessions", "chat.messages", "chat.message_usage",
                          "ingest.widgets", "ingest.documents", "ingest.document_sources"] {
                let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE owner_id = '\(owner)'"),
                                                       logger: Logger(label: "test")).collect().first?.decode(Int.self)
                counts.append(count ?? -1)
            }
            return counts
        }
    }

    @Test func anAccountDeletionErasesThatTenantInChatAndIngestAndNobodyElse() async throws {
        try await withTestDatabase { database in
            let leaving = UUID(), staying = UUID()
            try await Self.seed(database, owners: [leaving, staying])
            #expect(try await Self.counts(database, owner: leaving) == [1, 1, 1, 1, 1, 1, 1])
            let envelope = try EventEnvelope(AccountDeleted(requestedAt: Date()), tenantID: leaving)
            let logger = Logger(label: "test")
            for (role, handler) in [("contexo_chat", TenantErasure.chat), ("contexo_ingest", Ingest.accountErasure)] {
                try await PostgresClientBox(url: database.roleURL(role)).run { client in
                    try await TestStack.asTenant(leaving) {
                        try await client.withTransaction(logger: logger) { connection in try await handler(envelope, connection, logger) }
                    }
                }
            }
            #expect(try await Self.counts(database, owner: leaving) == [0, 0, 0, 0, 0, 0, 0])
            #expect(try await Self.counts(database, owner: staying) == [1, 1, 1, 1, 1, 1, 1])
        }
    }

    /// `chat.widget.changed` (deleted) removes that widget's documents from Ingest, so they stop
    /// counting against the customer's storage; the customer's other widget and other tenants keep theirs.
    @Test func aDeletedWidgetsDocumentsAreErasedInIngest() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), other = UUID()
            try await Self.seed(database, owners: [owner, owner, other])
            let widgets = try await database.withConnection(database.adminURL) { connection in
                try await connection.query("SELECT widget_id FROM ingest.documents WHERE owner_id = \(owner) ORDER BY widget_id",
                                           logger: Logger(label: "test")).collect().map { try $0.decode(UUID.self) }
            }
            #expect(widgets.count == 2)
            let logger = Logger(label: "test")
            for change in [WidgetChanged.Change.updated, .deleted] {
                let envelope = try EventEnvelope(WidgetChanged(widgetID: widgets[0], change: change, allowedDomains: []), tenantID: owner)
                try await PostgresClientBox(url: database.roleURL("contexo_ingest")).run { client in
                    try await TestStack.asTenant(owner) {
                        try await client.withTransaction(logger: logger) { connection in
                            try await Ingest.WidgetDirectory.widgetChanged(envelope, connection, logger)
                        }
                    }
                }
                let left = try await database.withConnection(database.adminURL) { connection in
                    try await connection.query("SELECT widget_id FROM ingest.documents WHERE owner_id = \(owner) ORDER BY widget_id",
                                               logger: logger).collect().map { try $0.decode(UUID.self) }
                }
                #expect(left == (change == .deleted ? [widgets[1]] : widgets), "\(change)")
            }
            #expect(try await Self.counts(database, owner: owner).suffix(2) == [1, 1], "the other widget's document and source stay")
            #expect(try await Self.counts(database, owner: other).suffix(2) == [1, 1])
        }
    }
}

