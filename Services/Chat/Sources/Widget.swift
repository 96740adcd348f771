import Foundation
import Hummingbird

/// A customer's embeddable chat widget, locked to an allow-list of domains.
public struct Widget: ResponseCodable, Equatable, Sendable {
    public var id: UUID
    public var name: String
    public var allowedDomains: [String]
    /// The customer's instructions to the model (at most 4,000 characters).
    public var systemPrompt: String
    /// What the widget says first (at most 500 characters).
    public var greeting: String
    /// Whether earlier turns of a conversation go to the model (at most the last 6).
    public var includeHistory: Bool
    /// Conversations older than this many days are deleted.
    public var retentionDays: Int
    /// How the widget looks and speaks to visitors.
    public var appearance: WidgetAppearance
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name, greeting, appearance
        case allowedDomains = "allowed_domains"
        case systemPrompt = "system_prompt"
        case includeHistory = "include_history"
        case retentionDays = "retention_days"
        case createdAt = "created_at"
    }
}

/// The settings a customer may change besides the name and domains.
public struct WidgetSettings: Sendable, Equatable {
    public var systemPrompt: String?
    public var greeting: String?
    public var includeHistory: Bool?
    public var retentionDays: Int?
    /// Applied to the stored appearance inside the update's transaction.
    var appearance: AppearanceChange?

    public init(systemPrompt: String? = nil, greeting: String? = nil, includeHistory: Bool? = nil, retentionDays: Int? = nil) {
        self.systemPrompt = systemPrompt
        self.greeting = greeting
        self.includeHistory = includeHistory
        self.retentionDays = retentionDays
    }

    /// The names of the fields an update sets (for the audit trail: which, never their text).
    func changedFields(name: String?, domains: [String]?) -> [String] {
        [("name", name != nil), ("allowed_domains", domains != nil), ("system_prompt", systemPrompt != nil),
         ("greeting", greeting != nil), ("include_history", includeHistory != nil), ("retention_days", retentionDays != nil),
         ("appearance", appearance != nil)]
            .filter(\.1).map(\.0)
    }
}

/// The body of `GET /v1/widgets`.
public struct WidgetList: ResponseCodable, Equatable, Sendable {
    public var widgets: [Widget]
}
