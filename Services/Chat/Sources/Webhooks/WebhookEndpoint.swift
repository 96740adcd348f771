import Contract
import Foundation
import Hummingbird
import Platform

/// The events a customer can subscribe an endpoint to, by their public names, and the contract
/// event each comes from.
public enum WebhookEvent: String, CaseIterable, Codable, Sendable {
    case handoffRequested = "handoff.requested"
    case questionUnanswered = "question.unanswered"
    case feedbackReceived = "feedback.received"
    case conversationEnded = "conversation.ended"
    case documentReady = "document.ready"
    case documentFailed = "document.failed"

    /// The type of the event sent by "send test event" (to the endpoint whatever it subscribed to).
    public static let test = "webhook.test"

    /// The contract event type behind this webhook event.
    public var contractType: String {
        switch self {
        case .handoffRequested: HandoffRequested.type
        case .questionUnanswered: QuestionUnanswered.type
        case .feedbackReceived: FeedbackReceived.type
        case .conversationEnded: ConversationEnded.type
        case .documentReady: DocumentReady.type
        case .documentFailed: DocumentFailed.type
        }
    }
}

/// A customer's webhook endpoint as the API shows it. The secret appears only when it is made
/// (creation, rotation).
public struct WebhookEndpoint: ResponseEncodable, Codable, Sendable, Equatable {
    public var id: UUID
    public var url: String
    public var description: String
    public var events: [String]
    public var enabled: Bool
    /// Why Contexo disabled it (repeated failure), when it did.
    public var disabledReason: String?
    public var disabledAt: Date?
    /// Until when the secret before the last rotation still signs deliveries.
    public var previousSecretExpiresAt: Date?
    public var createdAt: Date
    /// The signing secret: only in the answers to creation and rotation.
    public var secret: String?

    enum CodingKeys: String, CodingKey {
        case id, url, description, events, enabled, secret
        case disabledReason = "disabled_reason"
        case disabledAt = "disabled_at"
        case previousSecretExpiresAt = "previous_secret_expires_at"
        case createdAt = "created_at"
    }
}

/// `GET /v1/webhooks`.
public struct WebhookEndpointList: ResponseEncodable, Codable, Sendable, Equatable {
    public var endpoints: [WebhookEndpoint]
}

/// One try to deliver, as the customer sees it.
public struct WebhookAttempt: Codable, Sendable, Equatable {
    public var attemptedAt: Date
    /// The receiver's HTTP status; nil when it did not answer.
    public var statusCode: Int?
    public var error: String?
    public var durationMilliseconds: Int

    enum CodingKeys: String, CodingKey {
        case error
        case attemptedAt = "attempted_at"
        case statusCode = "status_code"
        case durationMilliseconds = "duration_ms"
    }
}

/// One event on its way to one endpoint, with every attempt.
public struct WebhookDelivery: Codable, Sendable, Equatable {
    public var id: UUID
    /// Also the `Idempotency-Key` header of every attempt.
    public var eventID: UUID
    public var eventType: String
    /// `pending`, `delivered` or `failed`.
    public var status: String
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?
    public var attempts: [WebhookAttempt]

    enum CodingKeys: String, CodingKey {
        case id, status, attempts
        case eventID = "event_id"
        case eventType = "event_type"
        case lastError = "last_error"
        case createdAt = "created_at"
        case deliveredAt = "delivered_at"
    }
}

/// `GET /v1/webhooks/{id}/deliveries`: the newest first.
public struct WebhookDeliveryList: ResponseEncodable, Codable, Sendable, Equatable {
    public var deliveries: [WebhookDelivery]
}

/// What a customer sends to register or change an endpoint.
struct WebhookEndpointInput: Decodable, Sendable {
    var url: String?
    var events: [String]?
    var description: String?
    var enabled: Bool?

    /// The events, checked: 1 to 10 known names, without repeats.
    static func validEvents(_ events: [String]) throws -> [String] {
        let names = Set(WebhookEvent.allCases.map(\.rawValue))
        guard !events.isEmpty, events.count <= 10, Set(events).count == events.count else {
            throw Problem.unprocessable("events must list 1 to \(names.count) different event names.", fields: ["events"])
        }
        if let unknown = events.first(where: { !names.contains($0) }) {
            throw Problem.unprocessable(
                "\(unknown.prefix(60)) is not an event; choose from \(WebhookEvent.allCases.map(\.rawValue).joined(separator: ", ")).",
                fields: ["events"])
        }
        return events
    }

    static func validDescription(_ text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.storedLength <= 200 else { throw Problem.unprocessable("description may be at most 200 characters.", fields: ["description"]) }
        return trimmed
    }
}

/// `POST /v1/webhooks/{id}/rotate-secret`: how long the old secret keeps signing (0 to 168 hours).
struct SecretRotationInput: Decodable, Sendable {
    var previousSecretHours: Int?

    enum CodingKeys: String, CodingKey {
        case previousSecretHours = "previous_secret_hours"
    }
}
