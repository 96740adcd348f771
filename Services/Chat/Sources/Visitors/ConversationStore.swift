import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// A widget as a visitor request first meets it: whose it is, and what it shows.
public struct WidgetEntry: Sendable, Equatable {
    public var id: UUID
    public var owner: UUID
    public var name: String
    public var greeting: String
}

/// A visitor question recorded and metered (one unit of the tenant's quota, S4.1).
public struct MeteredQuestion: Sendable, Equatable {
    public var messageID: UUID
    public var meteredAs: String
    public var period: Date
}

/// A citation as the visitor and the customer see it: the `[n]` of the answer and its source.
public struct Citation: Codable, Sendable, Equatable {
    public var number: Int
    public var documentID: UUID
    public var title: String
    public var sourceURL: String?
    public var heading: String
    public var page: Int?
    public var characterStart: Int
    public var characterEnd: Int

    enum CodingKeys: String, CodingKey {
        case number = "n"
        case title, heading, page
        case documentID = "document_id"
        case sourceURL = "source_url"
        case characterStart = "char_start"
        case characterEnd = "char_end"
    }
}

/// One message of a conversation.
public struct ConversationMessage: Codable, Sendable, Equatable {
    public var id: UUID
    public var role: String
    public var text: String
    public var status: String
    public var unanswered: Bool
    public var citations: [Citation]
    public var createdAt: Date
    /// The visitor's vote on this answer, if any.
    public var feedback: AnswerFeedback?

    enum CodingKeys: String, CodingKey {
        case id, role, text, status, unanswered, citations, feedback
        case createdAt = "created_at"
    }
}

/// Why a visitor's message was refused before any AI work.
public enum VisitorError: Error, ProblemConvertible, Equatable {
    case quotaExhausted(allowance: Int, retryAfter: Int)
    case sessionInvalid(String)
    case widgetNotFound

    public var problem: Problem {
        switch self {
        case .quotaExhausted(let allowance, let retryAfter):
            Problem(status: .tooManyRequests, slug: "quota-exceeded", title: "Message Quota Reached",
                    detail: "This site's assistant has used its \(allowance) messages for this month.",
                    extensions: ["quota": ["messages"]], headers: ["Retry-After": String(retryAfter)])
        case .sessionInvalid(let why):
            Problem(status: .unauthorized, slug: "session-invalid", title: "Unauthorized",
                    detail: "The visitor session is not valid (\(why)); start a new session.")
        case .widgetNotFound:
            Problem.notFound("No such widget.")
        }
    }
}

/// Visitor sessions and conversations in Postgres, each call in the widget owner's tenant
/// transaction (the widget id is all a visitor brings; the directory names its owner).
public struct ConversationStore: Sendable {
    let client: PostgresClient
    let freeMessageAllowance: Int
    let logger: Logger

    public init(client: PostgresClient, freeMessageAllowance: Int, logger: Logger) {
        self.client = client
        self.freeMessageAllowance = freeMessageAllowance
        self.logger = logger
    }

    public func widget(_ id: UUID) async throws -> WidgetEntry {
        let row = try await client.withConnection { connection in
            try await connection.query(
                "SELECT owner_id, name, greeting FROM chat.widget_directory_entry(\(id))", logger: logger
            ).collect().first
        }
        guard let (owner, name, greeting) = try row?.decode((UUID, String, String).self) else { throw VisitorError.widgetNotFound }
        return WidgetEntry(id: id, owner: owner, name: name, greeting: greeting)
    }

    /// The widget's answering settings: its system prompt and whether history goes to the model.
    public func answeringSettings(_ widget: WidgetEntry) async throws -> (systemPrompt: String, includeHistory: Bool) {
        try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
            let row = try await connection.query(
                "SELECT system_prompt, include_history FROM chat.widgets WHERE id = \(widget.id)", logger: logger
            ).collect().first
            guard let settings = try row?.decode((String, Bool).self) else { throw VisitorError.widgetNotFound }
            return settings
        }
    }

    public func startSession(_ widget: WidgetEntry, id: UUID, ipHash: String, expiresAt: Date) async throws {
        _ = try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
            try await connection.query("""
                INSERT INTO chat.visitor_sessions (id, owner_id, widget_id, ip_hash, expires_at)
                VALUES (\(id), \(widget.owner), \(widget.id), \(ipHash), \(expiresAt))
                """, logger: logger)
        }
    }

    /// Meters the question and records it, in one transaction: both or neither.
    public func recordQuestion(_ widget: WidgetEntry, session: UUID, text: String) async throws -> MeteredQuestion {
        let allowance = Int32(freeMessageAllowance)
        do {
            return try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
                // A new question opens an ended conversation again (conversation.ended comes again later).
                let exists = try await connection.query(
                    "UPDATE chat.visitor_sessions SET ended_at = NULL WHERE id = \(session) AND expires_at > now() RETURNING 1",
                    logger: logger
                ).collect()
                guard !exists.isEmpty else { throw VisitorError.sessionInvalid("expired or unknown") }
                let metered = try await connection.query("SELECT chat.meter_message(\(allowance))", logger: logger)
                    .collect().first?.decode(String.self) ?? "plan"
                let row = try await connection.query("""
                    INSERT INTO chat.messages (owner_id, widget_id, session_id, role, content, metered_as, period)
                    VALUES (\(widget.owner), \(widget.id), \(session), 'visitor', \(text), \(metered),
                            date_trunc('month', now() AT TIME ZONE 'UTC')::date)
                    RETURNING id, period::timestamptz
                    """, logger: logger).collect().first
                let (id, period) = try row!.decode((UUID, Date).self)
                return MeteredQuestion(messageID: id, meteredAs: metered, period: period)
            }
        } catch let error as PostgresTransactionError {
            if let refusal = error.closureError as? VisitorError { throw refusal }
            if let psql = error.closureError as? PSQLError, let hint = psql.serverInfo?[.hint], hint.hasPrefix("quota:messages:") {
                throw VisitorError.quotaExhausted(allowance: Int(hint.dropFirst("quota:messages:".count)) ?? 0,
                                                  retryAfter: Self.secondsUntilNextMonth())
            }
            throw error
        }
    }

    /// The last `limit` complete messages of the session before `question`, oldest first.
    public func history(_ widget: WidgetEntry, session: UUID, before question: UUID, limit: Int) async throws -> [PriorTurn] {
        try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT role, content FROM (
                    SELECT role, content, created_at FROM chat.messages
                    WHERE session_id = \(session) AND id <> \(question) AND status = 'complete'
                    ORDER BY created_at DESC LIMIT \(Int32(limit))) recent
                ORDER BY created_at
                """, logger: logger)
            var turns: [PriorTurn] = []
            for try await (role, content) in rows.decode((String, String).self) {
                turns.append(PriorTurn(role: role == "visitor" ? .visitor : .assistant, text: content))
            }
            return turns
        }
    }

    /// Stores the answer (complete), and marks the question unanswered when the documents had nothing.
    public func finishAnswer(_ widget: WidgetEntry, session: UUID, question: MeteredQuestion, answerID: UUID, text: String,
                             citations: [Citation], unanswered: Bool, provider: String) async throws {
        let citationJSON = String(decoding: try JSONEncoder().encode(citations), as: UTF8.self)
        try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
            try await connection.query("""
                INSERT INTO chat.messages (id, owner_id, widget_id, session_id, role, content, status, unanswered, citations, provider)
                VALUES (\(answerID), \(widget.owner), \(widget.id), \(session), 'assistant', \(text), 'complete', \(unanswered),
                        \(citationJSON)::jsonb, \(provider))
                """, logger: logger)
            if unanswered {
                try await connection.query("UPDATE chat.messages SET unanswered = true WHERE id = \(question.messageID)", logger: logger)
                try await OutboxWriter(service: .chat).enqueue(
                    QuestionUnanswered(widgetID: widget.id, sessionID: session, messageID: question.messageID),
                    tenant: widget.owner, on: connection, logger: logger)
            }
        }
    }

    /// Records a failed answer and gives the quota unit back, in one transaction.
    public func failAnswer(_ widget: WidgetEntry, session: UUID, question: MeteredQuestion, answerID: UUID, partialText: String,
                           error: String, provider: String) async throws {
        try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
            try await connection.query("""
                INSERT INTO chat.messages (id, owner_id, widget_id, session_id, role, content, status, provider, error)
                VALUES (\(answerID), \(widget.owner), \(widget.id), \(session), 'assistant', \(partialText), 'failed',
                        \(provider), \(String(error.prefix(500))))
                """, logger: logger)
            try await connection.query(
                "SELECT chat.refund_message(\(question.meteredAs), \(question.period)::date)", logger: logger)
            try await connection.query(
                "UPDATE chat.messages SET metered_as = NULL WHERE id = \(question.messageID)", logger: logger)
        }
    }

    /// The session's messages, oldest first (a reloaded page shows the conversation again).
    public func transcript(owner: UUID, widget: UUID, session: UUID) async throws -> [ConversationMessage] {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            try await Self.transcript(widget: widget, session: session, on: connection, logger: logger)
        }
    }

    /// The session's messages, oldest first, on a connection already inside the owner's tenant.
    static func transcript(widget: UUID, session: UUID, on connection: PostgresConnection,
                           logger: Logger) async throws -> [ConversationMessage] {
        let rows = try await connection.query("""
            SELECT m.id, m.role, m.content, m.status, m.unanswered, m.citations::text, m.created_at, f.vote, f.comment
            FROM chat.messages m LEFT JOIN chat.feedback f ON f.message_id = m.id
            WHERE m.session_id = \(session) AND m.widget_id = \(widget) ORDER BY m.created_at, m.id
            """, logger: logger)
        var messages: [ConversationMessage] = []
        for try await (id, role, content, status, unanswered, citations, created, vote, comment) in
            rows.decode((UUID, String, String, String, Bool, String, Date, Int16?, String?).self) {
            messages.append(ConversationMessage(
                id: id, role: role, text: content, status: status, unanswered: unanswered,
                citations: (try? JSONDecoder().decode([Citation].self, from: Data(citations.utf8))) ?? [], createdAt: created,
                feedback: vote.map { AnswerFeedback(vote: AnswerFeedback.vote($0), comment: comment ?? "") }))
        }
        return messages
    }

    static func secondsUntilNextMonth(now: Date = Date()) -> Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: now))!
        let next = calendar.date(byAdding: .month, value: 1, to: start)!
        return max(1, Int(next.timeIntervalSince(now).rounded(.up)))
    }
}
