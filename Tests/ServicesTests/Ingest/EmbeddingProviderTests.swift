import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
@testable import Ingest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The embedding clients against local fake servers speaking Gemini's and OpenAI's documented wire
/// formats: batching limits, task types, auth headers, ordering, normalisation, retries and errors.
@Suite(.timeLimit(.minutes(5))) struct EmbeddingProviderTests {
    /// What a fake provider received, and how it should answer the next calls.
    final class Recorder: @unchecked Sendable {  // state behind locks
        let requests = NIOLockedValueBox<[(path: String, headers: HTTPFields, body: [String: Any])]>([])
        /// Statuses to answer before succeeding (e.g. [429, 503]).
        let failures: NIOLockedValueBox<[Int]>
        init(failures: [Int] = []) { self.failures = NIOLockedValueBox(failures) }

        func record(_ request: Request, body: ByteBuffer) -> Int? {
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
            requests.withLockedValue { $0.append((request.uri.path, request.headers, json)) }
            return failures.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
        }
        var count: Int { requests.withLockedValue { $0.count } }
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json", .retryAfter: "0"],
                 body: .init(byteBuffer: ByteBuffer(data: try JSONSerialization.data(withJSONObject: object))))
    }

    /// A vector that is not unit length and encodes `index` in its first component.
    static func vector(_ index: Int, dimensions: Int = 768) -> [Double] {
        [Double(index + 1)] + Array(repeating: 2.0, count: dimensions - 1)
    }

    static func gemini(_ recorder: Recorder) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1beta/models/{call}") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 24)
            if let failure = recorder.record(request, body: body) {
                return try json(["error": ["code": failure, "message": "quota exceeded", "status": "RESOURCE_EXHAUSTED"]],
                                status: .init(code: failure))
            }
            let requests = ((try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["requests"] as? [Any]) ?? []
            guard requests.count <= 100 else {
                return try json(["error": ["code": 400, "message": "at most 100 requests can be in one batch"]], status: .badRequest)
            }
            return try json(["embeddings": requests.indices.map { ["values": vector($0)] }])
        }
        return router
    }

    static func openAI(_ recorder: Recorder, dimensions: Int = 768, flatErrors: Bool = false) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/embeddings") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 24)
            if let failure = recorder.record(request, body: body) {
                let error: [String: Any] = flatErrors
                    ? ["object": "error", "message": "model not found", "type": "NotFoundError", "code": failure]
                    : ["error": ["message": "model not found", "type": "invalid_request_error", "code": failure]]
                return try json(error, status: .init(code: failure))
            }
            let inputs = ((try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["input"] as? [Any]) ?? []
            // Out of order on purpose: clients must sort by index.
            let data = inputs.indices.reversed().map { ["object": "embedding", "index": $0, "embedding": vector($0, dimensions: dimensions)] as [String: Any] }
            return try json(["object": "list", "data": data, "model": "nomic-embed-text"])
        }
        return router
    }

    static func inputs(_ count: Int) -> [EmbeddingInput] {
        (0..<count).map { EmbeddingInput(text: "chunk \($0)", title: "Handbook") }
    }

    @Test func geminiBatchesAtMost100WithTaskTypesTitleAndKeyHeader() async throws {
        let recorder = Recorder()
        try await withLiveServer(Self.gemini(recorder)) { port in
            let embedder = GeminiEmbedder(baseURL: "http://127.0.0.1:\(port)/v1beta", apiKey: "test-key",
                                          client: .shared, logger: Logger(label: "test"))
            let vectors = try await embedder.embed(documents: Self.inputs(250))
            #expect(vectors.count == 250)
            #expect(vectors.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4 }, "unit length")
            // Order kept within and across batches: the first component encodes the batch index.
            #expect(vectors[0][0] < vectors[1][0] && vectors[100][0] == vectors[0][0])
            let query = try await embedder.embed(query: "How do refunds work?")
            #expect(query.count == 768)
        }
        let requests = recorder.requests.withLockedValue { $0 }
        #expect(requests.map { ($0.body["requests"] as? [Any])?.count ?? 0 } == [100, 100, 50, 1])
        #expect(requests.allSatisfy { $0.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents" })
        #expect(requests.allSatisfy { $0.headers[HTTPField.Name("x-goog-api-key")!] == "test-key" })
        #expect(requests.allSatisfy { !$0.path.contains("key=") }, "the key stays out of URLs (and logs)")
        let first = try #require((requests[0].body["requests"] as? [[String: Any]])?.first)
        #expect(first["model"] as? String == "models/gemini-embedding-001")
        #expect(first["taskType"] as? String == "RETRIEVAL_DOCUMENT")
        #expect(first["title"] as? String == "Handbook")
        #expect(first["outputDimensionality"] as? Int == 768)
        let question = try #require((requests[3].body["requests"] as? [[String: Any]])?.first)
        #expect(question["taskType"] as? String == "RETRIEVAL_QUERY")
        #expect(question["title"] == nil)
    }

    @Test func geminiRetries429And5xxThenSucceeds() async throws {
        let recorder = Recorder(failures: [429, 503])
        try await withLiveServer(Self.gemini(recorder)) { port in
            let embedder = GeminiEmbedder(baseURL: "http://127.0.0.1:\(port)/v1beta", apiKey: "k", client: .shared,
                                          logger: Logger(label: "test"))
            let vectors = try await embedder.embed(documents: Self.inputs(3))
            #expect(vectors.count == 3)
        }
        #expect(recorder.count == 3)
    }

    @Test func geminiGivesUpAfterItsRetriesAndRefusesBadRequestsAtOnce() async throws {
        let unavailable = Recorder(failures: [500, 500, 500, 500])
        try await withLiveServer(Self.gemini(unavailable)) { port in
            let embedder = GeminiEmbedder(baseURL: "http://127.0.0.1:\(port)/v1beta", apiKey: "k", client: .shared,
                                          logger: Logger(label: "test"))
            await #expect(throws: EmbeddingError.unavailable("500: quota exceeded")) {
                try await embedder.embed(documents: Self.inputs(1))
            }
        }
        #expect(unavailable.count == 4)
        let refused = Recorder(failures: [403])
        try await withLiveServer(Self.gemini(refused)) { port in
            let embedder = GeminiEmbedder(baseURL: "http://127.0.0.1:\(port)/v1beta", apiKey: "bad", client: .shared,
                                          logger: Logger(label: "test"))
            await #expect(throws: EmbeddingError.rejected(status: 403, message: "quota exceeded")) {
                try await embedder.embed(query: "q")
            }
        }
        #expect(refused.count == 1, "a refusal is not retried")
    }

    @Test func openAICompatibleSortsByIndexAndSendsBearerAuth() async throws {
        let recorder = Recorder()
        try await withLiveServer(Self.openAI(recorder)) { port in
            let embedder = OpenAICompatibleEmbedder(baseURL: "http://127.0.0.1:\(port)", apiKey: "sk-test",
                                                    model: "nomic-embed-text", batchSize: 64, client: .shared,
                                                    logger: Logger(label: "test"))
            let vectors = try await embedder.embed(documents: Self.inputs(70))
            #expect(vectors.count == 70)
            #expect(vectors[0][0] < vectors[1][0], "index 0 first although the server sent it last")
            #expect(vectors.allSatisfy { abs($0.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4 })
        }
        let requests = recorder.requests.withLockedValue { $0 }
        #expect(requests.map { ($0.body["input"] as? [Any])?.count ?? 0 } == [64, 6])
        #expect(requests.allSatisfy { $0.headers[.authorization] == "Bearer sk-test" })
        #expect(requests.first?.body["model"] as? String == "nomic-embed-text")
        #expect(requests.first?.body["encoding_format"] as? String == "float")
    }

    @Test func openAICompatibleReportsBothErrorShapesAndWrongDimensions() async throws {
        for flat in [false, true] {
            let recorder = Recorder(failures: [404])
            try await withLiveServer(Self.openAI(recorder, flatErrors: flat)) { port in
                let embedder = OpenAICompatibleEmbedder(baseURL: "http://127.0.0.1:\(port)/", apiKey: "", model: "missing",
                                                        client: .shared, logger: Logger(label: "test"))
                await #expect(throws: EmbeddingError.rejected(status: 404, message: "model not found")) {
                    try await embedder.embed(query: "q")
                }
            }
        }
        let small = Recorder()
        try await withLiveServer(Self.openAI(small, dimensions: 384)) { port in
            let embedder = OpenAICompatibleEmbedder(baseURL: "http://127.0.0.1:\(port)", apiKey: "", model: "all-minilm",
                                                    client: .shared, logger: Logger(label: "test"))
            let error = await #expect(throws: EmbeddingError.self) { try await embedder.embed(query: "q") }
            #expect("\(String(describing: error))".contains("384 dimensions"))
        }
    }

    @Test func theHashingEmbedderIsDeterministicNormalisedAndLexical() async throws {
        let embedder = HashingEmbedder()
        let refund = try await embedder.embed(query: "How do refunds work?")
        #expect(refund == HashingEmbedder.vector(for: "How do refunds work?"))
        #expect(refund.count == 768 && abs(refund.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        let vectors = try await embedder.embed(documents: [
            EmbeddingInput(text: "Refunds are issued within 14 days of a request."),
            EmbeddingInput(text: "Our office dog is called Biscuit."),
        ])
        #expect(cosine(refund, vectors[0]) > cosine(refund, vectors[1]) + 0.1)
    }
}
