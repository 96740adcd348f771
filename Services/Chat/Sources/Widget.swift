import Foundation
import Hummingbird

/// A customer's embeddable chat widget, locked to an allow-list of domains.
public struct Widget: ResponseCodable, Equatable, Sendable {
    public var id: UUID
    public var name: String
    public var allowedDomains: [String]
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, name
        case allowedDomains = "allowed_domains"
        case createdAt = "created_at"
    }
}

/// The body of `GET /v1/widgets`.
public struct WidgetList: ResponseCodable, Equatable, Sendable {
    public var widgets: [Widget]
}
