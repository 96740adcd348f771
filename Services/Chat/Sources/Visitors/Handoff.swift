import Contract
import Foundation
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// A visitor's request to talk to a person, as the widget's customer sees it.
public struct HandoffRequest: ResponseEncodable, Codable, Sendable, Equatable {
    public var id: UUID
    public var sessionID: UUID
    public var email: String
    public var note: String
    /// The consent text the visitor agreed to, in the language they saw it.
    public var consent: String
    public var language: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, email, note, consent, language
        case sessionID = "session_id"
        case createdAt = "created_at"
    }
}

/// `GET /v1/widgets/{id}/handoffs`: the newest requests first.
public struct HandoffList: ResponseEncodable, Sendable, Equatable {
    public var requests: [HandoffRequest]
}

/// What a visitor sends to ask for a person.
struct HandoffInput: Decodable, Sendable {
    var email: String
    var note: String?
    /// Must be true: the visitor ticked the consent box.
    var consent: Bool
    /// The consent text the widget showed.
    var consentText: String
    var language: String?

    enum CodingKeys: String, CodingKey {
        case email, note, consent, language
        case consentText = "consent_text"
    }

    /// The request's fields trimmed and checked; a 422 naming the first that is not valid.
    func validated() throws -> (email: String, note: String, consent: String, language: String) {
        let email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        guard Self.looksLikeEmail(email) else {
            throw Problem.unprocessable("email must be an email address.", fields: ["email"])
        }
        let note = (note ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard note.storedLength <= 1000 else { throw Problem.unprocessable("note may be at most 1000 characters.", fields: ["note"]) }
        let consentText = consentText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard consent, (1...1000).contains(consentText.storedLength) else {
            throw Problem.unprocessable("The visitor must agree to be contacted (consent true, with the text they saw).",
                                        fields: ["consent"])
        }
        let language = String((language ?? "en").prefix(2)).lowercased()
        return (email, note, consentText, language.allSatisfy(\.isLetter) && language.count == 2 ? language : "en")
    }

    /// One `@`, something before it, a dotted domain after it, no spaces, at most 254 characters.
    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard text.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, !text.contains(where: { $0.isWhitespace || $0.isNewline }),
              let dot = parts[1].lastIndex(of: "."), dot > parts[1].startIndex, parts[1].index(after: dot) < parts[1].endIndex
        else { return false }
        return true
    }
}

/// Requests to talk to a person, in `chat.handoff_requests`, inside the widget owner's tenant
/// transaction: only when the widget offers it, one per conversation (a second replaces the first).
/// The address is never logged.
struct HandoffStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Records the session's request; nil when the widget does not offer handoff.
    func request(_ input: HandoffInput, widget: WidgetEntry, session: UUID) async throws -> HandoffRequest? {
        let fields = try input.validated()
        return try await client.withTenantTransaction(widget.owner, logger: logger) { connection in
            let offered = try await connection.query(
                "SELECT coalesce((appearance ->> 'handoff')::boolean, false) FROM chat.widgets WHERE id = \(widget.id)", logger: logger
            ).collect().first?.decode(Bool.self) ?? false
            guard offered else { return nil }
            let rows = try await connection.query("""
                INSERT INTO chat.handoff_requests (owner_id, widget_id, session_id, email, note, consent, language)
                SELECT s.owner_id, \(widget.id), s.id, \(fields.email), \(fields.note), \(fields.consent), \(fields.language)
                FROM chat.visitor_sessions s WHERE s.id = \(session)
                ON CONFLICT (session_id) DO UPDATE SET email = excluded.email, note = excluded.note, consent = excluded.consent,
                  language = excluded.language, updated_at = clock_timestamp()
                RETURNING id, session_id, email, note, consent, language, created_at
                """, logger: logger).collect()
            guard let row = rows.first else { return nil }
            let request = try Self.request(row)
            try await OutboxWriter(service: .chat).enqueue(
                HandoffRequested(widgetID: widget.id, sessionID: session, handoffID: request.id),
                tenant: widget.owner, on: connection, logger: logger)
            return request
        }
    }

    /// The widget's requests, newest first (at most 200).
    func list(owner: UUID, widget: UUID) async throws -> HandoffList {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            try await ConversationHistory.requireWidget(widget, on: connection, logger: logger)
            let rows = try await connection.query("""
                SELECT id, session_id, email, note, consent, language, created_at FROM chat.handoff_requests
                WHERE widget_id = \(widget) ORDER BY created_at DESC, id LIMIT 200
                """, logger: logger).collect()
            return HandoffList(requests: try rows.map(Self.request))
        }
    }

    static func request(_ row: PostgresRow) throws -> HandoffRequest {
        let (id, session, email, note, consent, language, created) =
            try row.decode((UUID, UUID, String, String, String, String, Date).self)
        return HandoffRequest(id: id, sessionID: session, email: email, note: note, consent: consent, language: language,
                              createdAt: created)
    }
}
