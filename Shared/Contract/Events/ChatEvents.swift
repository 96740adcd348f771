import Foundation

/// A widget was created, changed or deleted. The gateway refreshes its CORS allow-list cache.
public struct WidgetChanged: DomainEvent {
    public static let type = "chat.widget.changed"
    public static let version = 1
    public static let stream = EventStream.chat

    public enum Change: String, Codable, Sendable { case created, updated, deleted }

    public var widgetID: UUID
    public var change: Change
    /// The allow-list after the change (empty when deleted: nothing is allowed).
    public var allowedDomains: [String]

    public init(widgetID: UUID, change: Change, allowedDomains: [String]) {
        self.widgetID = widgetID
        self.change = change
        self.allowedDomains = allowedDomains
    }

    enum CodingKeys: String, CodingKey {
        case change
        case widgetID = "widget_id"
        case allowedDomains = "allowed_domains"
    }
}

/// A visitor asked to talk to a person. The request itself (their email address) stays in Chat's
/// tables: only ids travel on the stream.
public struct HandoffRequested: DomainEvent {
    public static let type = "chat.handoff.requested"
    public static let version = 1
    public static let stream = EventStream.chat

    public var widgetID: UUID
    public var sessionID: UUID
    public var handoffID: UUID

    public init(widgetID: UUID, sessionID: UUID, handoffID: UUID) {
        self.widgetID = widgetID
        self.sessionID = sessionID
        self.handoffID = handoffID
    }

    enum CodingKeys: String, CodingKey {
        case widgetID = "widget_id"
        case sessionID = "session_id"
        case handoffID = "handoff_id"
    }
}

/// The widget's documents had no answer to a visitor's question.
public struct QuestionUnanswered: DomainEvent {
    public static let type = "chat.question.unanswered"
    public static let version = 1
    public static let stream = EventStream.chat

    public var widgetID: UUID
    public var sessionID: UUID
    /// The visitor's question (a message id).
    public var messageID: UUID

    public init(widgetID: UUID, sessionID: UUID, messageID: UUID) {
        self.widgetID = widgetID
        self.sessionID = sessionID
        self.messageID = messageID
    }

    enum CodingKeys: String, CodingKey {
        case widgetID = "widget_id"
        case sessionID = "session_id"
        case messageID = "message_id"
    }
}

/// A visitor voted on an answer (or changed their vote).
public struct FeedbackReceived: DomainEvent {
    public static let type = "chat.feedback.received"
    public static let version = 1
    public static let stream = EventStream.chat

    public var widgetID: UUID
    public var sessionID: UUID
    /// The answer voted on.
    public var messageID: UUID
    /// `up` or `down`.
    public var vote: String

    public init(widgetID: UUID, sessionID: UUID, messageID: UUID, vote: String) {
        self.widgetID = widgetID
        self.sessionID = sessionID
        self.messageID = messageID
        self.vote = vote
    }

    enum CodingKeys: String, CodingKey {
        case vote
        case widgetID = "widget_id"
        case sessionID = "session_id"
        case messageID = "message_id"
    }
}

/// Nobody wrote in a conversation for a while (Chat's idle time): it ended. Written by Postgres
/// (`chat.end_idle_conversations`), in the same shape.
public struct ConversationEnded: DomainEvent {
    public static let type = "chat.conversation.ended"
    public static let version = 1
    public static let stream = EventStream.chat

    public var widgetID: UUID
    public var sessionID: UUID

    public init(widgetID: UUID, sessionID: UUID) {
        self.widgetID = widgetID
        self.sessionID = sessionID
    }

    enum CodingKeys: String, CodingKey {
        case widgetID = "widget_id"
        case sessionID = "session_id"
    }
}
