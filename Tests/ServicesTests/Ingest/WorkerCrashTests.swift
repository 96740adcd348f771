import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform
import Testing
import TestSupport

/// A real `contexo-ingest` process SIGKILLed in the middle of a document: its job is taken over by
/// another replica and the document ends ready, with its chunks and bytes counted once.
@Suite(.timeLimit(.minutes(5))) struct WorkerCrashTests {
    /// An OpenAI-compatible embedder that holds its first request until the test lets go.
    final class Embeddings: Sendable {
        let requests = NIOLockedValueBox(0)
        let holdFirst = NIOLockedValueBox(true)

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("/v1/embeddings") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 16 << 20)
                let first = self.requests.withLockedValue { $0 += 1; return $0 == 1 }
                if first {
                    // The worker is now mid-document, its transaction open: it will be killed here.
                    while self.holdFirst.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(50)) }
                }
                let inputs = ((try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["input"] as? [Any]) ?? []
                let data = inputs.indices.map { index -> [String: Any] in
                    var vector = [Double](repeating: 0.01, count: 768)
                    vector[index % 768] = 1
                    return ["object": "embedding", "index": index, "embedding": vector]
                }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(
                    data: try JSONSerialization.data(withJSONObject: ["object": "list", "data": data]))))
            }
            return router
        }
    }

    static func worker(_ database: TestDatabase, redis: RedisEndpoint, embeddingsPort: Int, name: String) async throws -> ServiceProcess {
        let role = database.roleURL("contexo_ingest")
        let port = freePort()
        let chat = await FakeChatDirectory.permissive.url()
        return try ServiceProcess(binary: "contexo-ingest", port: port, environment: [
            "CONTEXO_CHAT_URL": chat.absoluteString,
            "CONTEXO_ENV": "development", "CONTEXO_HTTP_HOST": "127.0.0.1", "CONTEXO_HTTP_PORT": String(port),
            "CONTEXO_REDIS_URL": "redis://127.0.0.1:\(redis.port)", "CONTEXO_INTERNAL_TOKEN_SECRET": TestStack.internalSecret,
            "CONTEXO_DATABASE_URL": "postgres://\(role.username):\(role.password!)@\(role.host):\(role.port)/\(role.database)",
            "CONTEXO_INSTANCE_ID": name, "CONTEXO_JOB_CLAIM_IDLE_SECONDS": "5", "CONTEXO_LOG_LEVEL": "info",
            "CONTEXO_EMBEDDINGS_PROVIDER": "openai", "CONTEXO_EMBEDDINGS_API_URL": "http://127.0.0.1:\(embeddingsPort)",
            "CONTEXO_EMBEDDINGS_MODEL": "fake-768",
        ].merging(TestEventKeys.environment(for: .ingest)) { $1 })
    }

    static func ready(_ process: ServiceProcess) async throws {
        for _ in 0..<300 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(process.port)/readyz")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw IngestHarness.Failure(description: "\(process.name) never became ready:\n\(process.output())")
    }

    @Test func aWorkerKilledMidDocumentLosesNothingAndCountsNothingTwice() async throws {
        let redis = try RedisServerProcess()
        try await redis.start()
        defer { redis.stop() }
        try await withTestDatabase { database in
            let embeddings = Embeddings()
            let owner = UUID(), widget = UUID()
            try await withLiveServer(embeddings.router) { embeddingsPort in
                let first = try await Self.worker(database, redis: redis.endpoint, embeddingsPort: embeddingsPort, name: "ingest-a")
                defer { first.stop() }
                try await Self.ready(first)
                var upload = HTTPClientRequest(url: "http://127.0.0.1:\(first.port)/v1/documents")
                upload.method = .POST
                for field in try await gatewayHeaders(for: .ingest, customer: owner) { upload.headers.add(name: field.name.rawName, value: field.value) }
                upload.headers.add(name: "Content-Type", value: "application/json")
                let text = (0..<40).map { "Paragraph \($0) about refunds, shipping and warranties in some detail." }.joined(separator: "\n\n")
                upload.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: [
                    "widget_id": widget.uuidString, "title": "Policies", "text": text])))
                let accepted = try await HTTPClient.shared.execute(upload, timeout: .seconds(10))
                #expect(accepted.status == .accepted)

                // Wait until the worker is inside the document (its embedding call is held), then kill it.
                for _ in 0..<600 where embeddings.requests.withLockedValue({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(50)) }
                #expect(embeddings.requests.withLockedValue { $0 } == 1, "the worker reached the embedder")
                first.signal(SIGKILL)
                #expect(await first.waitForExit(timeout: .seconds(10)) != nil)
                embeddings.holdFirst.withLockedValue { $0 = false }

                let second = try await Self.worker(database, redis: redis.endpoint, embeddingsPort: embeddingsPort, name: "ingest-b")
                defer { second.stop() }
                try await Self.ready(second)
                let deadline = ContinuousClock.now + .seconds(60)
                var status = ""
                while ContinuousClock.now < deadline {
                    status = try await ChatHarness.scalar(database, "SELECT status FROM ingest.documents", as: String.self) ?? ""
                    if status == "ready" || status == "failed" { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(status == "ready", "worker b:\n\(second.output().suffix(3000))")
                #expect(second.output().contains("claimed stale entries"), "taken over by the other replica")
            }
            let counts = try await database.withConnection(database.adminURL) { connection in
                try await connection.query("""
                    SELECT (SELECT count(*)::int FROM ingest.documents), (SELECT sum(byte_size)::int FROM ingest.documents),
                           (SELECT count(*)::int FROM ingest.chunks), (SELECT chunk_count FROM ingest.documents),
                           (SELECT count(*)::int FROM ingest.inbox WHERE consumer = 'ingest'),
                           (SELECT count(*)::int FROM ingest.outbox WHERE envelope::jsonb ->> 'type' = 'ingest.document.ready')
                    """, logger: Logger(label: "test")).collect().first?.decode((Int, Int, Int, Int32, Int, Int).self)
            }
            let bytes = (0..<40).map { "Paragraph \($0) about refunds, shipping and warranties in some detail." }.joined(separator: "\n\n").utf8.count
            #expect(counts?.0 == 1 && counts?.1 == bytes, "one document, its bytes once: \(String(describing: counts))")
            #expect(counts.map { $0.2 == Int($0.3) && $0.2 > 0 } == true, "chunks written once")
            #expect(counts?.5 == 1, "one ready event")
        }
    }
}
