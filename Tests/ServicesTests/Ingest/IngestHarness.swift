import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform
import PostgresNIO
import TestSupport

/// Ingest under test: the real service on its own database and its own Redis database, with its
/// outbox relay and jobs consumer running, so every document takes the production path.
enum IngestHarness {
    /// Redis databases 1…15, one per test in turn: the service's own consumers and relay then never
    /// see another test's jobs (tests run in parallel on one Redis; database 0 is the others').
    static let redisDatabases = NIOLockedValueBox(0)

    /// Chat's widget lookups go to `chat` (by default a directory that owns up every widget to its caller).
    static func configuration(_ database: TestDatabase, freeKnowledgeBytes: Int64 = 5_000_000,
                              maximumDocumentBytes: Int = 1 << 20, allowPrivateFetches: Bool = false,
                              chat: FakeChatDirectory = .permissive,
                              embeddings: EmbeddingProviderKind = .hashing) async -> IngestConfiguration {
        var redis = database.stack.redis(for: .ingest)
        redis.database = redisDatabases.withLockedValue { $0 = $0 % 15 + 1; return $0 }
        var service = serviceConfiguration(database.stack, for: .ingest, redis: redis)
        service.consumerGroupSuffix = "-" + database.name
        var configuration = IngestConfiguration(
            service: service,
            database: DatabaseConfiguration(url: database.roleURL("contexo_ingest"), maximumConnections: 12),
            freeKnowledgeBytes: freeKnowledgeBytes, maximumDocumentBytes: maximumDocumentBytes)
        configuration.allowPrivateNetworkFetches = allowPrivateFetches
        configuration.chatURL = await chat.url()
        configuration.embeddings.provider = embeddings
        configuration.embeddingModelDirectory = ModelEmbedderTests.modelDirectory
        return configuration
    }

    static func app(_ database: TestDatabase, freeKnowledgeBytes: Int64 = 5_000_000,
                    maximumDocumentBytes: Int = 1 << 20, allowPrivateFetches: Bool = false,
                    chat: FakeChatDirectory = .permissive,
                    embeddings: EmbeddingProviderKind = .hashing) async throws -> some ApplicationProtocol {
        try await Ingest.buildApplication(
            configuration: await configuration(database, freeKnowledgeBytes: freeKnowledgeBytes, maximumDocumentBytes: maximumDocumentBytes,
                                               allowPrivateFetches: allowPrivateFetches, chat: chat, embeddings: embeddings),
            logger: Logger(label: "test.ingest"))
    }

    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
        var id: UUID? { (json["id"] as? String).flatMap(UUID.init(uuidString:)) }
    }

    static func send(_ client: some TestClientProtocol, _ uri: String, method: HTTPRequest.Method = .get, owner: UUID,
                     contentType: String? = nil, body: Data? = nil) async throws -> Reply {
        var headers = try await gatewayHeaders(for: .ingest, customer: owner)
        if let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(data: $0) }) {
            Reply(status: $0.status, body: String(buffer: $0.body))
        }
    }

    static func paste(_ client: some TestClientProtocol, owner: UUID, widget: UUID, title: String, text: String,
                      format: String = "text") async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: ["widget_id": widget.uuidString, "title": title, "text": text, "format": format])
        return try await send(client, "/v1/documents", method: .post, owner: owner, contentType: "application/json", body: body)
    }

    static func upload(_ client: some TestClientProtocol, owner: UUID, widget: UUID, title: String, contentType: String,
                       body: Data) async throws -> Reply {
        let query = "widget_id=\(widget.uuidString)&title=\(title.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        return try await send(client, "/v1/documents?\(query)", method: .post, owner: owner, contentType: contentType, body: body)
    }

    static func multipart(_ client: some TestClientProtocol, owner: UUID, widget: UUID, filename: String,
                          contentType: String, file: Data) async throws -> Reply {
        let boundary = "contexo-\(UUID().uuidString)"
        var body = Data()
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"widget_id\"\r\n\r\n\(widget.uuidString)\r\n".utf8)
        body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8)
        body += file
        body += Data("\r\n--\(boundary)--\r\n".utf8)
        return try await send(client, "/v1/documents", method: .post, owner: owner,
                              contentType: "multipart/form-data; boundary=\(boundary)", body: body)
    }

    static func search(_ client: some TestClientProtocol, owner: UUID, widget: UUID, query: String, limit: Int = 5) async throws -> [KnowledgePassage] {
        let body = try JSONEncoder().encode(KnowledgeSearchRequest(widgetID: widget, query: query, limit: limit))
        let reply = try await send(client, "/internal/search", method: .post, owner: owner, contentType: "application/json", body: body)
        guard reply.status == .ok else { throw Failure(description: "search: \(reply.status) \(reply.body)") }
        return try JSONDecoder().decode(KnowledgeSearchResponse.self, from: Data(reply.body.utf8)).passages
    }

    /// Waits until the service's own jobs consumer has finished every queued document (the outbox
    /// relay publishes each job to this test's Redis database, the consumer ingests it). Returns how
    /// many documents are ready.
    @discardableResult
    static func settle(_ database: TestDatabase, timeout: Duration = .seconds(60)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (pending, ready) = try await database.withConnection(database.adminURL) { connection in
                try await connection.query("""
                    SELECT count(*) FILTER (WHERE status IN ('queued', 'processing'))::int,
                           count(*) FILTER (WHERE status = 'ready')::int FROM ingest.documents
                    """, logger: Logger(label: "test")).collect().first!.decode((Int, Int).self)
            }
            if pending == 0 { return ready }
            guard ContinuousClock.now < deadline else { throw Failure(description: "\(pending) documents still pending") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func document(_ client: some TestClientProtocol, owner: UUID, id: UUID) async throws -> [String: Any] {
        try await send(client, "/v1/documents/\(id)", owner: owner).json
    }

    struct Failure: Error, CustomStringConvertible { var description: String }
}
