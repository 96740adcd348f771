import Contract
import Foundation
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// A visitor's vote on one answer: up or down, with an optional short comment.
public struct AnswerFeedback: Codable, ResponseEncodable, Sendable, Equatable {
    /// `up` or `down`.
    public var vote: String
    public var comment: String

    static func vote(_ value: Int16) -> String { value > 0 ? "up" : "down" }
}

/// One vote as the customer sees it: with the question and the answer it judged.
public struct FeedbackEntry: ResponseEncodable, Sendable, Equatable {
    public var messageID: UUID
    public var sessionID: UUID
    public var vote: String
    public var comment: String
    public var question: String
    public var answer: String
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case vote, comment, question, answer
        case messageID = "message_id"
        case sessionID = "session_id"
        case updatedAt = "updated_at"
    }
}

/// `GET /v1/widgets/{id}/feedback`: the counts, and the newest votes first.
public struct FeedbackSummary: ResponseEncodable, Sendable, Equatable {
    public var up: Int
    public var down: Int
    public var entries: [FeedbackEntry]
}

/// Votes in `chat.feedback`, inside the widget owner's tenant transaction: a visitor may vote only
/// on a finished answer of their own session, once per answer (a new vote replaces it).
public struct FeedbackStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// How many votes `summary` lists.
    static let listed = 100

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Records or replaces the session's vote on `message`; nil when it is no finished answer of that session.
    func vote(_ feedback: AnswerFeedback, on message: UUID, widget: WidgetEntry, session: UUID) async throws -> AnswerFeedback? {
        try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
            let rows = try await connection.query("""
                INSERT INTO chat.feedback (message_id, owner_id, widget_id, session_id, vote, comment)
                SELECT m.id, m.owner_id, m.widget_id, m.session_id, \(Int16(feedback.vote == "up" ? 1 : -1)), \(feedback.comment)
                FROM chat.messages m
                WHERE m.id = \(message) AND m.widget_id = \(widget.id) AND m.session_id = \(session)
                  AND m.role = 'assistant' AND m.status = 'complete'
                ON CONFLICT (message_id) DO UPDATE SET vote = excluded.vote, comment = excluded.comment,
                  updated_at = clock_timestamp()
                RETURNING vote, comment
                """, logger: logger).collect()
            guard let (vote, comment) = try rows.first?.decode((Int16, String).self) else { return nil }
            try await OutboxWriter(service: .chat).enqueue(
                FeedbackReceived(widgetID: widget.id, sessionID: session, messageID: message, vote: AnswerFeedback.vote(vote)),
                tenant: widget.owner, on: connection, logger: logger)
            return AnswerFeedback(vote: AnswerFeedback.vote(vote), comment: comment)
        }
    }

    /// The widget's counts and newest votes, each with the question before the answer.
    func summary(owner: UUID, widget: UUID) async throws -> FeedbackSummary {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let counts = try await connection.query("""
                SELECT count(*) FILTER (WHERE vote > 0)::int, count(*) FILTER (WHERE vote < 0)::int
                FROM chat.feedback WHERE widget_id = \(widget)
                """, logger: logger).collect()
            var summary = FeedbackSummary(up: 0, down: 0, entries: [])
            if let row = counts.first { (summary.up, summary.down) = try row.decode((Int, Int).self) }
            let rows = try await connection.query("""
                SELECT f.message_id, f.session_id, f.vote, f.comment, coalesce(q.content, ''), a.content, f.updated_at
                FROM chat.feedback f JOIN chat.messages a ON a.id = f.message_id
                LEFT JOIN LATERAL (
                  SELECT content FROM chat.messages v
                  WHERE v.session_id = a.session_id AND v.role = 'visitor' AND (v.created_at, v.id) < (a.created_at, a.id)
                  ORDER BY v.created_at DESC, v.id DESC LIMIT 1) q ON true
                WHERE f.widget_id = \(widget)
                ORDER BY f.updated_at DESC, f.message_id LIMIT \(Int32(Self.listed))
                """, logger: logger)
            for try await (message, session, vote, comment, question, answer, updated) in
                rows.decode((UUID, UUID, Int16, String, String, String, Date).self) {
                summary.entries.append(FeedbackEntry(messageID: message, sessionID: session, vote: AnswerFeedback.vote(vote),
                                                     comment: comment, question: question, answer: answer, updatedAt: updated))
            }
            return summary
        }
    }
}
