import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// Turns events into webhook deliveries, one per subscribed endpoint, inside the consumer's
/// transaction (exactly once per event: the consumer's inbox, and one delivery per endpoint and
/// event). The body is put together here, from Chat's own tables under the event's tenant, so the
/// stream carries ids only: a visitor's email address never travels through Redis.
enum WebhookFanout {
    /// The handlers for `stream`: Chat's own events, or Ingest's documents.
    static func handlers(for stream: EventStream) -> [String: EventHandler] {
        let events = WebhookEvent.allCases.filter { event in
            EventCatalog.types.contains { $0.type == event.contractType && $0.stream == stream }
        }
        var handlers: [String: EventHandler] = [:]
        for event in events {
            handlers[event.contractType] = { envelope, connection, logger in
                try await fanOut(envelope, as: event, on: connection, logger: logger)
            }
        }
        return handlers
    }

    static func fanOut(_ envelope: EventEnvelope, as event: WebhookEvent, on connection: PostgresConnection,
                       logger: Logger) async throws {
        guard let tenant = envelope.tenantID else { return }
        try await connection.setTenant(tenant, logger: logger)
        let subscribed = try await connection.query(
            "SELECT count(*)::int FROM chat.webhook_endpoints WHERE enabled AND \(event.rawValue) = ANY (events)", logger: logger
        ).collect().first?.decode(Int.self) ?? 0
        guard subscribed > 0 else { return }
        guard let (session, data) = try await data(for: envelope, as: event, on: connection, logger: logger) else { return }
        let body = try WebhookBody.encode(id: envelope.id, type: event.rawValue, occurredAt: envelope.occurredAt, data: data)
        try await connection.query("""
            INSERT INTO chat.webhook_deliveries (owner_id, endpoint_id, event_id, event_type, session_id, body)
            SELECT e.owner_id, e.id, \(envelope.id), \(event.rawValue),
                   (SELECT s.id FROM chat.visitor_sessions s WHERE s.id = \(session)), \(body)
            FROM chat.webhook_endpoints e WHERE e.enabled AND \(event.rawValue) = ANY (e.events)
            ON CONFLICT (endpoint_id, event_id) DO NOTHING
            """, logger: logger)
    }

    /// The event's `data` and the conversation it is about; nil when what it names is gone.
    static func data(for envelope: EventEnvelope, as event: WebhookEvent, on connection: PostgresConnection,
                     logger: Logger) async throws -> (UUID?, JSONValue)? {
        func id(_ value: UUID) -> JSONValue { .string(value.uuidString.lowercased()) }
        switch event {
        case .handoffRequested:
            let handoff = try envelope.decode(HandoffRequested.self)
            let rows = try await connection.query("""
                SELECT id, session_id, email, note, consent, language, created_at FROM chat.handoff_requests
                WHERE id = \(handoff.handoffID)
                """, logger: logger).collect()
            guard let row = rows.first else { return nil }
            let request = try HandoffStore.request(row)
            let transcript = try await ConversationStore.transcript(widget: handoff.widgetID, session: handoff.sessionID,
                                                                    on: connection, logger: logger)
            return (handoff.sessionID, .object([
                "widget": try await widget(handoff.widgetID, on: connection, logger: logger),
                "conversation_id": id(handoff.sessionID),
                "handoff": try WebhookBody.value(request),
                "transcript": try WebhookBody.value(transcript),
            ]))
        case .questionUnanswered:
            let question = try envelope.decode(QuestionUnanswered.self)
            let rows = try await connection.query(
                "SELECT content FROM chat.messages WHERE id = \(question.messageID)", logger: logger).collect()
            guard let text = try rows.first?.decode(String.self) else { return nil }
            return (question.sessionID, .object([
                "widget": try await widget(question.widgetID, on: connection, logger: logger),
                "conversation_id": id(question.sessionID), "message_id": id(question.messageID), "question": .string(text),
            ]))
        case .feedbackReceived:
            let feedback = try envelope.decode(FeedbackReceived.self)
            let rows = try await connection.query("""
                SELECT f.vote, f.comment, a.content, coalesce((
                  SELECT v.content FROM chat.messages v WHERE v.session_id = a.session_id AND v.role = 'visitor'
                    AND (v.created_at, v.id) < (a.created_at, a.id) ORDER BY v.created_at DESC, v.id DESC LIMIT 1), '')
                FROM chat.feedback f JOIN chat.messages a ON a.id = f.message_id WHERE f.message_id = \(feedback.messageID)
                """, logger: logger).collect()
            guard let (vote, comment, answer, question) = try rows.first?.decode((Int16, String, String, String).self) else { return nil }
            return (feedback.sessionID, .object([
                "widget": try await widget(feedback.widgetID, on: connection, logger: logger),
                "conversation_id": id(feedback.sessionID), "message_id": id(feedback.messageID),
                "vote": .string(AnswerFeedback.vote(vote)), "comment": .string(comment),
                "question": .string(question), "answer": .string(answer),
            ]))
        case .conversationEnded:
            let ended = try envelope.decode(ConversationEnded.self)
            let transcript = try await ConversationStore.transcript(widget: ended.widgetID, session: ended.sessionID,
                                                                    on: connection, logger: logger)
            guard !transcript.isEmpty else { return nil }
            return (ended.sessionID, .object([
                "widget": try await widget(ended.widgetID, on: connection, logger: logger),
                "conversation_id": id(ended.sessionID),
                "messages": .number(Double(transcript.count)),
                "unanswered": .number(Double(transcript.filter { $0.role == "visitor" && $0.unanswered }.count)),
                "transcript": try WebhookBody.value(transcript),
            ]))
        case .documentReady:
            let document = try envelope.decode(DocumentReady.self)
            return (nil, .object([
                "widget": try await widget(document.widgetID, on: connection, logger: logger),
                "document_id": id(document.documentID), "chunks": .number(Double(document.chunks)),
            ]))
        case .documentFailed:
            let document = try envelope.decode(DocumentFailed.self)
            return (nil, .object([
                "widget": try await widget(document.widgetID, on: connection, logger: logger),
                "document_id": id(document.documentID), "reason": .string(document.reason),
            ]))
        }
    }

    /// `{"id", "name"}` of the widget (the name empty when it was deleted since).
    static func widget(_ widget: UUID, on connection: PostgresConnection, logger: Logger) async throws -> JSONValue {
        let name = try await connection.query("SELECT name FROM chat.widgets WHERE id = \(widget)", logger: logger)
            .collect().first?.decode(String.self) ?? ""
        return .object(["id": .string(widget.uuidString.lowercased()), "name": .string(name)])
    }
}
