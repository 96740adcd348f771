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
