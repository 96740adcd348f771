import AsyncHTTPClient
import Contract
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Platform

/// Chat's way to Ingest's `POST /internal/search` and `POST /internal/embeddings`, with an
/// internal token it mints for the widget's owner (audience `ingest`), so Ingest searches inside
/// that tenant's rows only.
public struct KnowledgeClient: Sendable {
    let baseURL: String
    let client: HTTPClient
    let issuer: InternalTokenIssuer
    var timeout: TimeAmount = .seconds(5)

    public init(baseURL: URL, client: HTTPClient, issuer: InternalTokenIssuer) {
        var base = baseURL.absoluteString
        if base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.client = client
        self.issuer = issuer
    }

    /// Why retrieval failed.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    public func search(owner: UUID, widget: UUID, query: String, limit: Int, requestID: String) async throws -> [KnowledgePassage] {
        let clipped = String(query.prefix(KnowledgeSearchRequest.maximumQueryCharacters))
        return try await post("/internal/search", KnowledgeSearchRequest(widgetID: widget, query: clipped, limit: limit),
                              as: KnowledgeSearchResponse.self, owner: owner, requestID: requestID, what: "knowledge search").passages
    }

    /// Ingest's embeddings of `texts` (each clipped to the allowed length), in order.
    public func embed(_ texts: [String], owner: UUID, requestID: String) async throws -> TextEmbeddingResponse {
        let clipped = texts.map { String($0.prefix(TextEmbeddingRequest.maximumCharacters)) }
        return try await post("/internal/embeddings", TextEmbeddingRequest(texts: clipped), as: TextEmbeddingResponse.self,
                              owner: owner, requestID: requestID, what: "embedding")
    }

    private func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body, as: Answer.Type, owner: UUID,
                                                          requestID: String, what: String) async throws -> Answer {
        var request = HTTPClientRequest(url: "\(baseURL)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Request-Id", value: requestID)
        request.headers.add(name: InternalTokenVerifier.header,
                            value: try await issuer.token(for: .ingest, customerID: owner, requestID: requestID, plan: nil))
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let data = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok else { throw Unavailable(description: "\(what) answered \(response.status.code)") }
            return try JSONDecoder().decode(Answer.self, from: Data(buffer: data))
        } catch let error as Unavailable {
            throw error
        } catch {
            throw Unavailable(description: "\(what) failed: \(error)")
        }
    }
}
