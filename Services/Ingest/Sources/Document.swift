import Foundation
import Hummingbird

/// A document in a widget's knowledge base, as the customer sees it.
public struct Document: ResponseCodable, Equatable, Sendable {
    public var id: UUID
    public var widgetID: UUID
    public var title: String
    public var sourceKind: String
    public var contentType: String
    public var sourceURL: String?
    public var byteSize: Int64
    /// `queued`, `processing`, `ready` or `failed`.
    public var status: String
    /// Why the document failed, in words for the customer.
    public var failureReason: String?
    public var chunkCount: Int
    /// The crawl a page document came from.
    public var parentID: UUID?
    /// A short outcome, e.g. a crawl's "12 pages queued; 2 skipped: …".
    public var detail: String?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, title, status
        case widgetID = "widget_id"
        case sourceKind = "source_kind"
        case contentType = "content_type"
        case sourceURL = "source_url"
        case byteSize = "byte_size"
        case failureReason = "failure_reason"
        case chunkCount = "chunk_count"
        case parentID = "parent_id"
        case detail
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// How much of the plan's knowledge storage is in use (failed documents hold none).
public struct KnowledgeUsage: Codable, Equatable, Sendable {
    public var bytesUsed: Int64
    public var bytesLimit: Int64

    enum CodingKeys: String, CodingKey {
        case bytesUsed = "bytes_used"
        case bytesLimit = "bytes_limit"
    }
}

/// A customer's knowledge at a glance (`GET /internal/knowledge/usage`, for the account page):
/// bytes used and allowed, and how many documents are in each status.
public struct KnowledgeSummary: ResponseCodable, Equatable, Sendable {
    public var bytesUsed: Int64
    public var bytesLimit: Int64
    /// Status (`queued`, `processing`, `ready`, `failed`) to count; statuses with none are absent.
    public var documents: [String: Int]

    enum CodingKeys: String, CodingKey {
        case documents
        case bytesUsed = "bytes_used"
        case bytesLimit = "bytes_limit"
    }
}

/// The body of `GET /v1/documents`.
public struct DocumentList: ResponseCodable, Equatable, Sendable {
    public var documents: [Document]
    public var usage: KnowledgeUsage
}
