import Foundation

/// A document was accepted and waits for extraction, chunking and embedding (a job).
public struct DocumentRequested: DomainEvent {
    public static let type = "ingest.document.requested"
    public static let version = 1
    public static let stream = EventStream.ingestJobs

    public var documentID: UUID
    public var widgetID: UUID
    public var sourceKind: String
    public var byteSize: Int64

    public init(documentID: UUID, widgetID: UUID, sourceKind: String, byteSize: Int64) {
        self.documentID = documentID
        self.widgetID = widgetID
        self.sourceKind = sourceKind
        self.byteSize = byteSize
    }

    enum CodingKeys: String, CodingKey {
        case documentID = "document_id"
        case widgetID = "widget_id"
        case sourceKind = "source_kind"
        case byteSize = "byte_size"
    }
}

/// A document is searchable.
public struct DocumentReady: DomainEvent {
    public static let type = "ingest.document.ready"
    public static let version = 1
    public static let stream = EventStream.ingest

    public var documentID: UUID
    public var widgetID: UUID
    public var chunks: Int

    public init(documentID: UUID, widgetID: UUID, chunks: Int) {
        self.documentID = documentID
        self.widgetID = widgetID
        self.chunks = chunks
    }

    enum CodingKeys: String, CodingKey {
        case chunks
        case documentID = "document_id"
        case widgetID = "widget_id"
    }
}

/// A document could not be ingested; its reserved bytes were released.
public struct DocumentFailed: DomainEvent {
    public static let type = "ingest.document.failed"
    public static let version = 1
    public static let stream = EventStream.ingest

    public var documentID: UUID
    public var widgetID: UUID
    public var reason: String

    public init(documentID: UUID, widgetID: UUID, reason: String) {
        self.documentID = documentID
        self.widgetID = widgetID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case reason
        case documentID = "document_id"
        case widgetID = "widget_id"
    }
}

/// Every event type of the contract, for registries and golden tests.
public enum EventCatalog {
    public static let types: [any DomainEvent.Type] = [
        EntitlementsChanged.self, CreditsGranted.self, CreditsRevoked.self, AccountDeleted.self,
        WidgetChanged.self, HandoffRequested.self, QuestionUnanswered.self, FeedbackReceived.self, ConversationEnded.self,
        DocumentRequested.self, DocumentReady.self, DocumentFailed.self,
    ]
}
