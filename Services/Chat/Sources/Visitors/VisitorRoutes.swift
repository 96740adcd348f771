import Contract
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// The visitor API, reached through the gateway's widget surface (CORS, per-IP and per-widget
/// limits are done there; the gateway passes the visitor's IP in `X-Contexo-Client-IP`).
///
/// - `POST /widget/v1/widgets/{id}/sessions` starts a session: 201 with a signed token (S5.3). The
///   IP is stored only as a keyed hash (S5.2).
/// - `POST /widget/v1/widgets/{id}/messages` `{"message"}` with `X-Contexo-Session: <token>`:
///   metered first (429 when the month's messages are spent, before any AI work), then answered as
///   server-sent events (`token` events, then `done` with citations, or `error`), or as one JSON
///   object when the client does not accept `text/event-stream`.
/// - `GET /widget/v1/widgets/{id}/messages` with the session header: the conversation so far.
/// - `POST /widget/v1/widgets/{id}/messages/{message}/feedback` `{"vote": "up"|"down", "comment"?}`
///   with the session header: the visitor's vote on one of their answers (a new one replaces it).
/// - `POST /widget/v1/widgets/{id}/handoff` `{"email", "note"?, "consent": true, "consent_text", "language"?}`
///   with the session header: the visitor asks to talk to a person (when the widget offers it).
public struct VisitorRoutes: Sendable {
    public static let sessionHeader = HTTPField.Name("X-Contexo-Session")!
    static let clientIPHeader = HTTPField.Name("X-Contexo-Client-IP")!

    let store: ConversationStore
    let feedback: FeedbackStore
    let handoffs: HandoffStore
    let answers: AnswerService
    let signer: VisitorToken.Signer
    let hasher: IPHasher
    let configuration: VisitorConfiguration

    init(store: ConversationStore, feedback: FeedbackStore, handoffs: HandoffStore, answers: AnswerService,
         configuration: VisitorConfiguration) {
        self.store = store
        self.feedback = feedback
        self.handoffs = handoffs
        self.answers = answers
        self.signer = VisitorToken.Signer(secret: configuration.tokenSecret)
        self.hasher = IPHasher(pepper: configuration.ipHashPepper)
        self.configuration = configuration
    }

    /// A new session's token.
    struct SessionStarted: ResponseEncodable {
        let sessionID: UUID
        let token: String
        let expiresAt: Date
        let name: String
        let greeting: String
        enum CodingKeys: String, CodingKey {
            case token, name, greeting
            case sessionID = "session_id"
            case expiresAt = "expires_at"
        }
    }

    struct VisitorMessage: Decodable {
        let message: String
    }

    struct HandoffSent: ResponseEncodable {
        let id: UUID
        let status = "sent"
    }

    struct Vote: Decodable {
        let vote: String
        let comment: String?
    }

    struct Transcript: ResponseEncodable {
        let messages: [ConversationMessage]
    }

    public func register(on group: RouterGroup<ContexoRequestContext>) {
        group.post("/widget/v1/widgets/{id}/sessions") { request, context -> EditedResponse<SessionStarted> in
            let widget = try await store.widget(try Self.widgetID(context))
            // Only the gateway sets the header; a direct caller (tests, tools) counts as "unknown".
            let ip = request.headers[Self.clientIPHeader] ?? "unknown"
            let now = Date()
            let token = VisitorToken(widgetID: widget.id, sessionID: UUID(), issuedAt: now,
                                     expiresAt: now.addingTimeInterval(Double(configuration.sessionLifetime.components.seconds)))
            try await store.startSession(widget, id: token.sessionID, ipHash: hasher.hash(ip), expiresAt: token.expiresAt)
            return EditedResponse(status: .created, response: SessionStarted(
                sessionID: token.sessionID, token: signer.sign(token), expiresAt: token.expiresAt, name: widget.name,
                greeting: widget.greeting))
        }
        group.get("/widget/v1/widgets/{id}/messages") { request, context -> Transcript in
            let widget = try await store.widget(try Self.widgetID(context))
            let token = try verify(request, widget: widget)
            return Transcript(messages: try await store.transcript(owner: widget.owner, widget: widget.id, session: token.sessionID))
        }
        group.post("/widget/v1/widgets/{id}/messages") { request, context -> Response in
            let widget = try await store.widget(try Self.widgetID(context))
            let token = try verify(request, widget: widget)
            let input = try await JSONInput.decode(VisitorMessage.self, from: request, context: context, maximumBytes: 32 * 1024)
            let text = input.message.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw Problem.unprocessable("message must not be empty.", fields: ["message"]) }
            guard text.storedLength <= configuration.maximumMessageCharacters else {
                throw Problem.tooLarge("A message may be at most \(configuration.maximumMessageCharacters) characters.",
                                       fields: ["message"])
            }
            let question = try await store.recordQuestion(widget, session: token.sessionID, text: text)
            let events = answers.answer(widget, session: token.sessionID, question: question, text: text,
                                        requestID: context.requestID)
            let wantsStream = request.headers[.accept]?.contains("text/event-stream") ?? false
            return wantsStream ? Self.serverSentEvents(events) : try await Self.json(events)
        }
        group.post("/widget/v1/widgets/{id}/messages/{message}/feedback") { request, context -> AnswerFeedback in
            let widget = try await store.widget(try Self.widgetID(context))
            let token = try verify(request, widget: widget)
            guard let message = context.parameters.get("message").flatMap(UUID.init(uuidString:)) else {
                throw Problem.notFound("No such answer.")
            }
            let input = try await JSONInput.decode(Vote.self, from: request, context: context, maximumBytes: 8 * 1024)
            guard input.vote == "up" || input.vote == "down" else {
                throw Problem.unprocessable("vote must be up or down.", fields: ["vote"])
            }
            let comment = (input.comment ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard comment.storedLength <= 500 else {
                throw Problem.unprocessable("comment may be at most 500 characters.", fields: ["comment"])
            }
            guard let saved = try await feedback.vote(AnswerFeedback(vote: input.vote, comment: comment), on: message,
                                                      widget: widget, session: token.sessionID) else {
                throw Problem.notFound("No finished answer of this conversation has that id.")
            }
            return saved
        }
        group.post("/widget/v1/widgets/{id}/handoff") { request, context -> EditedResponse<HandoffSent> in
            let widget = try await store.widget(try Self.widgetID(context))
            let token = try verify(request, widget: widget)
            let input = try await JSONInput.decode(HandoffInput.self, from: request, context: context, maximumBytes: 8 * 1024)
            guard let saved = try await handoffs.request(input, widget: widget, session: token.sessionID) else {
                throw Problem.notFound("This assistant does not offer to talk to a person.")
            }
            return EditedResponse(status: .created, response: HandoffSent(id: saved.id))
        }
    }

    private func verify(_ request: Request, widget: WidgetEntry) throws -> VisitorToken {
        guard let raw = request.headers[Self.sessionHeader] else {
            throw VisitorError.sessionInvalid("no X-Contexo-Session header")
        }
        do {
            return try signer.verify(raw, widget: widget.id)
        } catch {
            let why = switch error {
            case .malformed: "malformed"
            case .badSignature: "bad signature"
            case .otherWidget: "issued for another widget"
            case .expired: "expired"
            }
            throw VisitorError.sessionInvalid(why)
        }
    }

    /// `event: token` / `event: done` / `event: error`, each flushed as it comes.
    static func serverSentEvents(_ events: AsyncStream<AnswerStreamEvent>) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            for await event in events {
                let (name, data): (String, Data) = switch event {
                case .token(let text): ("token", try encoder.encode(["text": text]))
                case .done(let summary): ("done", try encoder.encode(summary))
                case .failed(let message): ("error", try encoder.encode(["message": message]))
                }
                try await writer.write(ByteBuffer(string: "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"))
            }
            try await writer.finish(nil)
        })
    }

    /// The whole answer as one JSON object (or a 502 problem if it failed).
    static func json(_ events: AsyncStream<AnswerStreamEvent>) async throws -> Response {
        for await event in events {
            switch event {
            case .token: continue
            case .done(let summary):
                let encoder = JSONEncoder()
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: ResponseBody(byteBuffer: ByteBuffer(data: try encoder.encode(summary))))
            case .failed(let message):
                throw Problem(status: .badGateway, slug: "answer-failed", title: "Bad Gateway", detail: message)
            }
        }
        throw Problem(status: .badGateway, slug: "answer-failed", title: "Bad Gateway", detail: "The answer ended unexpectedly.")
    }

    static func widgetID(_ context: ContexoRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw VisitorError.widgetNotFound }
        return id
    }
}
