import Foundation
import Logging
import Platform
import PostgresNIO

/// The customer's reading of past conversations: pages of visitor sessions per widget, newest first,
/// and the questions the documents could not answer. Every read is a tenant transaction that first
/// checks the widget is the customer's (404 otherwise).
struct ConversationHistory: Sendable {
    let client: PostgresClient
    let logger: Logger

    typealias Conversation = ConversationRoutes.Conversation
    typealias Unanswered = ConversationRoutes.Unanswered

    func page(owner: UUID, widget: UUID, before cursor: ConversationRoutes.PageCursor, limit: Int) async throws -> [Conversation] {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            try await Self.requireWidget(widget, on: connection, logger: logger)
            // Microseconds since 1970 compare exactly with what the cursor carries (no float round
            // trip through Date).
            let rows = try await connection.query("""
                SELECT s.id, s.created_at, count(m.id)::int, max(m.created_at)
                FROM chat.visitor_sessions s JOIN chat.messages m ON m.session_id = s.id
                WHERE s.widget_id = \(widget)
                  AND (floor(extract(epoch FROM s.created_at) * 1000000)::bigint, s.id) < (\(cursor.startedBefore), \(cursor.sessionBefore))
                GROUP BY s.id, s.created_at
                ORDER BY s.created_at DESC, s.id DESC LIMIT \(Int32(limit))
                """, logger: logger)
            var page: [Conversation] = []
            for try await (id, started, count, last) in rows.decode((UUID, Date, Int, Date?).self) {
                page.append(Conversation(sessionID: id, startedAt: started, messages: count, lastMessageAt: last))
            }
            return page
        }
    }

    /// The newest 200 questions marked unanswered.
    func unanswered(owner: UUID, widget: UUID) async throws -> [Unanswered] {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            try await Self.requireWidget(widget, on: connection, logger: logger)
            let rows = try await connection.query("""
                SELECT id, session_id, content, created_at FROM chat.messages
                WHERE widget_id = \(widget) AND unanswered AND role = 'visitor'
                ORDER BY created_at DESC LIMIT 200
                """, logger: logger)
            var questions: [Unanswered] = []
            for try await (id, session, text, asked) in rows.decode((UUID, UUID, String, Date).self) {
                questions.append(Unanswered(messageID: id, sessionID: session, question: text, askedAt: asked))
            }
            return questions
        }
    }

    /// 404 unless the widget is the customer's (row-level security hides everyone else's).
    static func requireWidget(_ widget: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query("SELECT 1 FROM chat.widgets WHERE id = \(widget)", logger: logger)
        for try await _ in rows.decode(Int32.self) { return }
        throw WidgetError.notFound
    }
}
