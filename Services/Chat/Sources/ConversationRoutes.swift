import Foundation
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// The customer's view of their visitors (through the gateway): conversations per widget (paged,
/// newest first), one conversation's messages, the questions the documents could not answer, the
/// visitors' votes on answers, and this month's message usage.
struct ConversationRoutes: Sendable {
    let store: ConversationStore
    let history: ConversationHistory
    let feedback: FeedbackStore
    let insight: InsightStore
    let handoffs: HandoffStore
    let usage: ChatUsageStore

    /// One visitor session in a list.
    struct Conversation: Codable {
        let sessionID: UUID
        let startedAt: Date
        let messages: Int
        let lastMessageAt: Date?
        enum CodingKeys: String, CodingKey {
            case messages
            case sessionID = "session_id"
            case startedAt = "started_at"
            case lastMessageAt = "last_message_at"
        }
    }

    struct ConversationPage: ResponseEncodable {
        let conversations: [Conversation]
        /// Pass as `before` for the next page; absent on the last.
        let nextBefore: String?
        enum CodingKeys: String, CodingKey {
            case conversations
            case nextBefore = "next_before"
        }
    }

    /// Where a page of conversations ends: the last session's start to the microsecond, then its id,
    /// so sessions that started in the same second (or the same microsecond) are neither skipped nor
    /// repeated. Written as `<microseconds since 1970>.<session id>`; a plain ISO 8601 time is read
    /// as "everything that started before it".
    struct PageCursor: Equatable {
        var startedBefore: Int64
        var sessionBefore: UUID

        init(startedBefore: Int64, sessionBefore: UUID) {
            self.startedBefore = startedBefore
            self.sessionBefore = sessionBefore
        }

        init(after conversation: Conversation) {
            self.init(startedBefore: Int64((conversation.startedAt.timeIntervalSince1970 * 1_000_000).rounded()),
                      sessionBefore: conversation.sessionID)
        }

        init?(_ raw: String) {
            let parts = raw.split(separator: ".", maxSplits: 1)
            if parts.count == 2, let micros = Int64(parts[0]), let session = UUID(uuidString: String(parts[1])) {
                self.init(startedBefore: micros, sessionBefore: session)
            } else if let date = try? Date(raw, strategy: .iso8601) {
                // Before that time: every session id at exactly that microsecond is excluded too.
                self.init(startedBefore: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()),
                          sessionBefore: UUID(uuidString: "00000000-0000-0000-0000-000000000000")!)
            } else {
                return nil
            }
        }

        var text: String { "\(startedBefore).\(sessionBefore.uuidString.lowercased())" }
    }

    struct Transcript: ResponseEncodable {
        let messages: [ConversationMessage]
    }

    struct Unanswered: Codable {
        let messageID: UUID
        let sessionID: UUID
        let question: String
        let askedAt: Date
        enum CodingKeys: String, CodingKey {
            case question
            case messageID = "message_id"
            case sessionID = "session_id"
            case askedAt = "asked_at"
        }
    }

    struct UnansweredList: ResponseEncodable {
        let questions: [Unanswered]
    }

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/widgets/{id}/conversations") { request, context -> ConversationPage in
            let customer = try context.requireCustomer()
            let widget = try WidgetRoutes.widgetID(context)
            var limit = 20
            if let raw = request.uri.queryParameters.get("limit") {
                guard let number = Int(raw), (1...100).contains(number) else {
                    throw Problem.unprocessable("limit must be a whole number from 1 to 100.", fields: ["limit"])
                }
                limit = number
            }
            var cursor = PageCursor(startedBefore: .max, sessionBefore: UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!)
            if let raw = request.uri.queryParameters.get("before") {
                guard let parsed = PageCursor(String(raw)) else {
                    throw Problem.unprocessable("before must be a next_before value or an ISO 8601 time.", fields: ["before"])
                }
                cursor = parsed
            }
            let conversations = try await history.page(owner: customer.id, widget: widget, before: cursor, limit: limit)
            let next = conversations.count == limit ? conversations.last.map { PageCursor(after: $0).text } : nil
            return ConversationPage(conversations: conversations, nextBefore: next)
        }
        group.get("/v1/widgets/{id}/conversations/{session}") { _, context -> Transcript in
            let customer = try context.requireCustomer()
            let widget = try WidgetRoutes.widgetID(context)
            guard let session = context.parameters.get("session").flatMap(UUID.init(uuidString:)) else {
                throw Problem.notFound("No such conversation.")
            }
            let messages = try await store.transcript(owner: customer.id, widget: widget, session: session)
            guard !messages.isEmpty else { throw Problem.notFound("No such conversation.") }
            return Transcript(messages: messages)
        }
        group.get("/v1/widgets/{id}/feedback") { _, context -> FeedbackSummary in
            let customer = try context.requireCustomer()
            return try await feedback.summary(owner: customer.id, widget: try WidgetRoutes.widgetID(context))
        }
        group.get("/v1/widgets/{id}/insights") { request, context -> ConversationInsight in
            let customer = try context.requireCustomer()
            let raw = request.uri.queryParameters.get("days") ?? "30"
            guard let days = Int(raw), (1...90).contains(days) else {
                throw Problem.unprocessable("days must be a whole number from 1 to 90.", fields: ["days"])
            }
            return try await insight.insight(owner: customer.id, widget: try WidgetRoutes.widgetID(context), days: days,
                                             requestID: context.requestID)
        }
        group.get("/v1/widgets/{id}/handoffs") { _, context -> HandoffList in
            let customer = try context.requireCustomer()
            return try await handoffs.list(owner: customer.id, widget: try WidgetRoutes.widgetID(context))
        }
        group.get("/v1/widgets/{id}/unanswered") { _, context -> UnansweredList in
            let customer = try context.requireCustomer()
            let widget = try WidgetRoutes.widgetID(context)
            return UnansweredList(questions: try await history.unanswered(owner: customer.id, widget: widget))
        }
        group.get("/v1/chat/usage") { _, context -> ChatUsage in
            try await usage.usage(owner: try context.requireCustomer().id)
        }
    }
}
