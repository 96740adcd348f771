import Contract
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import Platform

/// The customer's document routes (reached through the gateway) and the internal search route
/// Chat calls.
///
/// `POST /v1/documents` accepts a file three ways: `multipart/form-data` (fields `widget_id`,
/// optional `title`, and `file`), a raw body in one of the readable content types with
/// `?widget_id=…&title=…`, or JSON `{"widget_id", "title", "text"}` for pasted text. It answers
/// 202 at once with the queued document; ingestion runs in the background.
public struct DocumentRoutes: Sendable {
    let documents: PostgresDocumentRepository
    /// Which widgets the customer owns: documents go only to one's own widgets.
    let widgets: WidgetDirectory
    let search: HybridSearch
    let maximumDocumentBytes: Int
    /// Checks web addresses before they are accepted; nil when fetching is off.
    let addressPolicy: AddressPolicy?

    public init(documents: PostgresDocumentRepository, widgets: WidgetDirectory, search: HybridSearch, maximumDocumentBytes: Int,
                addressPolicy: AddressPolicy? = AddressPolicy()) {
        self.documents = documents
        self.widgets = widgets
        self.search = search
        self.maximumDocumentBytes = maximumDocumentBytes
        self.addressPolicy = addressPolicy
    }

    public func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/documents") { request, context -> DocumentList in
            let customer = try context.requireCustomer()
            let widget = try request.uri.queryParameters.get("widget_id").map { try Self.uuid($0, field: "widget_id") }
            return try await documents.list(owner: customer.id, widget: widget)
        }
        group.post("/v1/documents") { request, context -> EditedResponse<Document> in
            let customer = try context.requireCustomer()
            let upload = try await upload(from: request, context: context)
            try await widgets.requireOwned(upload.widget, by: customer.id, requestID: context.requestID)
            let document = try await documents.create(
                owner: customer.id, widget: upload.widget, title: upload.title, kind: upload.kind, format: upload.format,
                sourceURL: upload.sourceURL, body: upload.body)
            return EditedResponse(status: .accepted, headers: [.location: "/v1/documents/\(document.id)"], response: document)
        }
        group.get("/v1/documents/{id}") { _, context -> Document in
            let customer = try context.requireCustomer()
            return try await documents.get(owner: customer.id, id: try Self.uuid(context.parameters.get("id") ?? "", field: "id"))
        }
        group.delete("/v1/documents/{id}") { _, context -> Response in
            let customer = try context.requireCustomer()
            try await documents.delete(owner: customer.id, id: try Self.uuid(context.parameters.get("id") ?? "", field: "id"))
            return Response(status: .noContent)
        }
        group.post("/v1/documents/{id}/reindex") { _, context -> EditedResponse<Document> in
            let customer = try context.requireCustomer()
            let document = try await documents.reindex(
                owner: customer.id, id: try Self.uuid(context.parameters.get("id") ?? "", field: "id"))
            return EditedResponse(status: .accepted, response: document)
        }
        group.get("/internal/knowledge/usage") { _, context -> KnowledgeSummary in
            try await documents.summary(owner: try context.requireCustomer().id)
        }
        group.post("/internal/search") { request, context -> KnowledgeSearchResponse in
            let customer = try context.requireCustomer()
            let query = try await JSONInput.decode(KnowledgeSearchRequest.self, from: request, context: context)
            let text = query.query.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, text.storedLength <= KnowledgeSearchRequest.maximumQueryCharacters else {
                throw Problem.unprocessable(
                    "query must be 1 to \(KnowledgeSearchRequest.maximumQueryCharacters) characters.", fields: ["query"])
            }
            let limit = query.limit ?? 8
            guard (1...KnowledgeSearchRequest.maximumLimit).contains(limit) else {
                throw Problem.unprocessable("limit must be between 1 and \(KnowledgeSearchRequest.maximumLimit).", fields: ["limit"])
            }
            return KnowledgeSearchResponse(passages: try await search.search(
                owner: customer.id, widget: query.widgetID, query: text, limit: limit))
        }
        // Another service's texts to compare by meaning (no tenant data is read or stored).
        group.post("/internal/embeddings") { request, context -> TextEmbeddingResponse in
            _ = try context.requireCustomer()
            let input = try await JSONInput.decode(TextEmbeddingRequest.self, from: request, context: context, maximumBytes: 2 << 20)
            guard input.texts.count <= TextEmbeddingRequest.maximumTexts,
                  input.texts.allSatisfy({ !$0.isEmpty && $0.storedLength <= TextEmbeddingRequest.maximumCharacters }) else {
                throw Problem.unprocessable("texts must be at most \(TextEmbeddingRequest.maximumTexts) texts of 1 to "
                                            + "\(TextEmbeddingRequest.maximumCharacters) characters.", fields: ["texts"])
            }
            let vectors = try await search.embedder.embed(documents: input.texts.map { EmbeddingInput(text: $0) })
            return TextEmbeddingResponse(model: search.embedder.model, vectors: vectors)
        }
    }

    /// A document as sent, before anything is stored.
    struct Upload {
        var widget: UUID
        var title: String
        var kind: String
        var format: DocumentFormat
        var body: Data
        var sourceURL: String? = nil
    }

    /// Pasted text, or a web address (one page, or a crawl from it), as JSON.
    struct PastedText: Decodable {
        var widgetID: UUID
        var title: String?
        var text: String?
        /// `text` (the default) or `markdown`.
        var format: String?
        var url: String?
        var crawl: Crawl?

        /// A crawl's limits.
        struct Crawl: Decodable {
            var maxPages: Int?
            var maxDepth: Int?
            enum CodingKeys: String, CodingKey {
                case maxPages = "max_pages"
                case maxDepth = "max_depth"
            }
        }

        enum CodingKeys: String, CodingKey {
            case title, text, format, url, crawl
            case widgetID = "widget_id"
        }
    }

    private func upload(from request: Request, context: ContexoRequestContext) async throws -> Upload {
        let contentType = request.headers[.contentType] ?? ""
        let tooLarge = Problem.tooLarge("A document may be at most \(maximumDocumentBytes) bytes.")
        if let boundary = MultipartForm.boundary(of: contentType) {
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: maximumDocumentBytes + 64 * 1024) } catch { throw tooLarge }
            guard let form = MultipartForm(Data(buffer: buffer), boundary: boundary) else {
                throw Problem.badRequest("The multipart body is malformed.")
            }
            guard let widgetField = form["widget_id"] else { throw Problem.unprocessable("widget_id is required.", fields: ["widget_id"]) }
            let widget = try Self.uuid(String(decoding: widgetField.data, as: UTF8.self), field: "widget_id")
            guard let file = form["file"] else { throw Problem.unprocessable("file is required.", fields: ["file"]) }
            guard file.data.count <= maximumDocumentBytes else { throw tooLarge }
            let format = try Self.format(contentType: file.contentType, filename: file.filename, field: "file")
            let title = form["title"].map { String(decoding: $0.data, as: UTF8.self) } ?? file.filename ?? "Untitled document"
            return Upload(widget: widget, title: try Self.title(title), kind: "upload", format: format, body: file.data)
        }
        if DocumentFormat(contentType: contentType) == nil,
           contentType.lowercased().hasPrefix("application/json") || contentType.lowercased().contains("+json") {
            let pasted = try await JSONInput.decode(PastedText.self, from: request, context: context,
                                                    maximumBytes: maximumDocumentBytes + 4096)
            if let url = pasted.url { return try await webUpload(pasted, url: url) }
            guard let text = pasted.text else { throw Problem.unprocessable("text or url is required.", fields: ["text"]) }
            let format: DocumentFormat
            switch pasted.format ?? "text" {
            case "text": format = .plainText
            case "markdown": format = .markdown
            default: throw Problem.unprocessable("format must be text or markdown.", fields: ["format"])
            }
            let body = Data(text.utf8)
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw Problem.unprocessable("text must not be empty.", fields: ["text"])
            }
            guard body.count <= maximumDocumentBytes else { throw tooLarge }
            return Upload(widget: pasted.widgetID, title: try Self.title(pasted.title ?? "Pasted text"), kind: "text",
                          format: format, body: body)
        }
        let format = try Self.format(contentType: contentType, filename: nil, field: "Content-Type")
        guard let widgetParameter = request.uri.queryParameters.get("widget_id") else {
            throw Problem.unprocessable("widget_id is required as a query parameter.", fields: ["widget_id"])
        }
        let widget = try Self.uuid(widgetParameter, field: "widget_id")
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: maximumDocumentBytes) } catch { throw tooLarge }
        guard buffer.readableBytes > 0 else { throw Problem.unprocessable("The document is empty.", fields: ["body"]) }
        let title = request.uri.queryParameters.get("title") ?? "Untitled document"
        return Upload(widget: widget, title: try Self.title(title), kind: "upload", format: format, body: Data(buffer: buffer))
    }

    /// A web address: checked now (scheme, and the address it resolves to, S8.3), fetched by the job.
    private func webUpload(_ input: PastedText, url raw: String) async throws -> Upload {
        guard let url = URL(string: raw.trimmingCharacters(in: .whitespaces)), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
              let host = url.host, !host.isEmpty, raw.count <= 2000 else {
            throw Problem.unprocessable("url must be an http or https address.", fields: ["url"])
        }
        if let crawl = input.crawl {
            guard (1...200).contains(crawl.maxPages ?? 50) else {
                throw Problem.unprocessable("crawl.max_pages must be 1 to 200.", fields: ["crawl.max_pages"])
            }
            guard (0...5).contains(crawl.maxDepth ?? 3) else {
                throw Problem.unprocessable("crawl.max_depth must be 0 to 5.", fields: ["crawl.max_depth"])
            }
        }
        guard let policy = addressPolicy else {
            throw Problem.unprocessable("Fetching web pages is not enabled on this server.", fields: ["url"])
        }
        do {
            guard policy.permits(hostName: host) else { throw FetchError.forbiddenAddress(host: host) }
            _ = try await policy.permittedAddresses(host: host, port: url.port ?? (url.scheme == "https" ? 443 : 80))
        } catch let error as FetchError {
            throw Problem.unprocessable(error.description, fields: ["url"])
        } catch let refusal as AddressRefusal {
            throw Problem.unprocessable(FetchError(refusal).description, fields: ["url"])
        }
        let title = try Self.title(input.title ?? String(url.absoluteString.prefix(500)))
        guard let crawl = input.crawl else {
            return Upload(widget: input.widgetID, title: title, kind: "url", format: .html, body: Data(), sourceURL: url.absoluteString)
        }
        let settings = try JSONEncoder().encode(WebSources.CrawlSettings(maxPages: crawl.maxPages ?? 50, maxDepth: crawl.maxDepth ?? 3))
        // The settings are the crawl's "source"; its pages are stored (and counted) as documents of their own.
        return Upload(widget: input.widgetID, title: title, kind: "crawl", format: .plainText, body: settings,
                      sourceURL: url.absoluteString)
    }

    static func format(contentType: String?, filename: String?, field: String) throws -> DocumentFormat {
        if let contentType, let format = DocumentFormat(contentType: contentType) { return format }
        if let filename, let format = DocumentFormat(filename: filename) { return format }
        throw Problem(
            status: .unsupportedMediaType, slug: "media-type", title: "Unsupported Media Type",
            detail: "Ingest reads plain text, Markdown, HTML, PDF, DOCX and CSV; send one with its content type.",
            extensions: ["fields": [field]])
    }

    static func title(_ raw: String) throws -> String {
        let title = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...500).contains(title.storedLength), !title.contains("\u{0}") else {
            throw Problem.unprocessable("title must be 1 to 500 characters, with no NUL character.", fields: ["title"])
        }
        return title
    }

    static func uuid(_ text: String, field: String) throws -> UUID {
        guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Problem.unprocessable("\(field) must be a UUID.", fields: [field])
        }
        return id
    }
}

extension KnowledgeSearchResponse: ResponseEncodable {}
extension TextEmbeddingResponse: ResponseEncodable {}
