import Foundation
import Hummingbird

/// A document in a widget's knowledge base, as the customer sees it.
public struct Document: ResponseCodable, Equatable, Sendable {
    public var id: UUID
    public var widgetID: UUID
    public var title: String
    public var sourceKind: String
    public var byteSize: Int64
    public var status: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, title, status
        case widgetID = "widget_id"
        case sourceKind = "source_kind"
        case byteSize = "byte_size"
        case createdAt = "created_at"
    }
}

/// The body of `GET /v1/documents`.
public struct DocumentList: ResponseCodable, Equatable, Sendable {
    public var documents: [Document]
}
