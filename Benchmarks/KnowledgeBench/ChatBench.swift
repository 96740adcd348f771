import AsyncHTTPClient
import Chat
import Contract
import Foundation
import Hummingbird
import Ingest
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform
import PostgresNIO
import ServiceLifecycle
import TestSupport

/// `scripts/bench chat`: Chat and Ingest in this process on real sockets, a 10,000-chunk knowledge
/// base, an instant fake provider, and 32 visitors asking in parallel over HTTP with server-sent
/// events. Reports messages/s, latency percentiles, the time Contexo adds before the provider is
/// called, and — in the same run — the raw cost of each step on its own, retrieval query included.
struct ChatBench {
    let environment: BenchEnvironment
    var logger: Logger { environment.logger }
    static let visitors = 32
    static let secret = String(repeating: "b", count: 40)

    /// Answers at once, and notes when each question reached it.
    final class InstantProvider: AnswerProvider {
        let name = "instant"
        let calledAt = NIOLockedValueBox<[String: ContinuousClock.Instant]>([:])
        func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
            let now = ContinuousClock.now
            calledAt.withLockedValue { $0[prompt.question] = now }
            return AsyncThrowingStream { continuation in
                continuation.yield(.text("From the documents: see [1]."))
                continuation.yield(.finished(reason: "stop"))
                continuation.finish()
            }
        }
    }

    func run() async throws {
        let provider = InstantProvider()
        try await Self.withChatAndIngest(environment, secret: Self.secret, provider: provider) { chatPort, ingestPort in
            try await measure(chatPort: chatPort, ingestPort: ingestPort, provider: provider)
        }
    }

    /// Chat (with `provider`) and Ingest running in this process on free ports, against a fresh
    /// migrated database, for `body`.
    /// Chat and Ingest in this process on a fresh database; `configure` adjusts Ingest (embedder, search legs).
    static func withChatAndIngest(_ environment: BenchEnvironment, secret: String, provider: any AnswerProvider,
                                  configure: (inout IngestConfiguration) -> Void = { _ in },
                                  _ body: (_ chatPort: Int, _ ingestPort: Int) async throws -> Void) async throws {
        try await environment.freshDatabase()
        let logger = environment.logger
        let redis = RedisEndpoint(url: environment.redisURL)!
        let ingestPort = freePort(), chatPort = freePort()
        func service(_ port: Int, _ name: ServiceName) -> ServiceConfiguration {
            ServiceConfiguration(environment: .production, port: port, logLevel: .warning, internalTokenSecret: secret, redis: redis,
                                 events: TestEventKeys.events(for: name))
        }
        var ingestConfiguration = IngestConfiguration(
            service: service(ingestPort, .ingest), database: DatabaseConfiguration(url: environment.role("ingest"), maximumConnections: 16))
        configure(&ingestConfiguration)
        let ingest = try await Ingest.buildApplication(configuration: ingestConfiguration, logger: logger)
        let chat = try await Chat.buildApplication(configuration: ChatConfiguration(
            service: service(chatPort, .chat), database: DatabaseConfiguration(url: environment.role("chat"), maximumConnections: 16),
            freeWidgetLimit: 10, freeMessageAllowance: 10_000_000,
            ingestURL: URL(string: "http://127.0.0.1:\(ingestPort)")!), logger: logger, provider: provider)
        let group = ServiceGroup(configuration: .init(services: [ingest, chat], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            try await waitUntilReady(chatPort)
            try await waitUntilReady(ingestPort)
            try await body(chatPort, ingestPort)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static func waitUntilReady(_ port: Int) async throws {
        for _ in 0..<200 {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(2)),
               response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        fatalError("service on \(port) never became ready")
    }

    func measure(chatPort: Int, ingestPort: Int, provider: InstantProvider) async throws {
        let logger = self.logger
        let issuer = await InternalTokenIssuer(secret: Self.secret, ticketKey: TestStack.ticketKey)
        let owner = UUID()
        // The widget through Chat's API, then 10,000 chunks of knowledge for it.
        var create = HTTPClientRequest(url: "http://127.0.0.1:\(chatPort)/v1/widgets")
        create.method = .POST
        create.headers.add(name: InternalTokenVerifier.header, value: try await issuer.token(for: .chat, customerID: owner, requestID: "bench", plan: nil))
        create.headers.add(name: "Content-Type", value: "application/json")
        create.body = .bytes(ByteBuffer(string: #"{"name":"Bench","allowed_domains":["https://bench.example.com"]}"#))
        let created = try await HTTPClient.shared.execute(create, timeout: .seconds(10))
        let widgetJSON = try await created.body.collect(upTo: 1 << 20)
        let widget = UUID(uuidString: (try JSONSerialization.jsonObject(with: Data(buffer: widgetJSON)) as! [String: Any])["id"] as! String)!
        let tenant = IngestBench.Tenant(owner: owner, widget: widget, chunks: 10_000, sizeClass: "bench", seed: 5)
        try await environment.run(IngestBench.dropVectorIndex)
        try await withClient(environment.admin, connections: 2, logger: logger) { admin in
            try await IngestBench.load(tenant, into: admin, logger: logger)
        }
        try await environment.run(IngestBench.createVectorIndex)

        // Questions made of the knowledge base's own words, so retrieval finds passages.
        var generator = TextGenerator(seed: 5)
        let perVisitor = Int(ProcessInfo.processInfo.environment["BENCH_MESSAGES"] ?? "40") ?? 40
        let questions = (0..<(Self.visitors * perVisitor)).map { index in "q\(index) " + generator.sentence(words: 6) }
        let sessions = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<Self.visitors { group.addTask { try await self.startSession(chatPort: chatPort, widget: widget, owner: owner, issuer: issuer) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        // Warm-up: connections, caches, plans.
        for question in questions.prefix(32) {
            _ = try await ask(chatPort: chatPort, widget: widget, owner: owner, session: sessions[0], question: "warm " + question, issuer: issuer)
        }

        report("== chat: \(Self.visitors) concurrent visitors × \(perVisitor) messages over HTTP with SSE, 10,000-chunk knowledge base, instant provider")
        let clock = ContinuousClock()
        let started = clock.now
        let samples = try await withThrowingTaskGroup(of: [Sample].self) { group in
            for visitor in 0..<Self.visitors {
                group.addTask {
                    var samples: [Sample] = []
                    for index in 0..<perVisitor {
                        samples.append(try await self.ask(chatPort: chatPort, widget: widget, owner: owner, session: sessions[visitor],
                                                          question: questions[visitor * perVisitor + index], issuer: issuer))
                    }
                    return samples
                }
            }
            return try await group.reduce(into: [Sample]()) { $0 += $1 }
        }
        let elapsed = clock.now - started
        let called = provider.calledAt.withLockedValue { $0 }
        let added = samples.compactMap { sample in called[sample.question].map { $0 - sample.sent } }
        report(String(format: "  throughput: %.0f messages/s (%d messages in %.1f s; every one metered, retrieved, answered, stored)",
                      Double(samples.count) / seconds(elapsed), samples.count, seconds(elapsed)))
        report("  request → done event:              " + Percentiles(samples.map(\.total)).summary)
        report("  request → first byte (SSE head):   " + Percentiles(samples.map(\.firstByte)).summary)
        report("  Contexo before the provider is called: " + Percentiles(added).summary)

        // The same steps on their own, one at a time, in this run.
        // A request's task holds the gateway's ticket for the widget's owner; so does this one.
        try await TestStack.asTenant(owner) { try await withClient(environment.role("chat"), logger: logger) { chatClient in
            try await withClient(environment.role("ingest"), logger: logger) { ingestClient in
                let store = ConversationStore(client: chatClient, freeMessageAllowance: 10_000_000, logger: logger)
                let entry = try await store.widget(widget)
                let session = UUID()
                try await store.startSession(entry, id: session, ipHash: String(repeating: "a", count: 64), expiresAt: Date().addingTimeInterval(3600))
                let search = HybridSearch(client: ingestClient, embedder: HashingEmbedder(), logger: logger)
                let knowledge = KnowledgeClient(baseURL: URL(string: "http://127.0.0.1:\(ingestPort)")!, client: .shared, issuer: issuer)
                var meter: [Duration] = [], direct: [Duration] = [], overHTTP: [Duration] = [], settings: [Duration] = []
                for question in questions.prefix(200) {
                    meter.append(try await clock.measure { _ = try await store.recordQuestion(entry, session: session, text: question) })
                    settings.append(try await clock.measure { _ = try await store.answeringSettings(entry) })
                    direct.append(try await clock.measure {
                        _ = try await search.search(owner: owner, widget: widget, query: question, limit: AnswerService.passageLimit)
                    })
                    overHTTP.append(try await clock.measure {
                        _ = try await knowledge.search(owner: owner, widget: widget, query: question, limit: AnswerService.passageLimit,
                                                       requestID: "bench")
                    })
                }
                report("  alone, sequential (200 each):")
                report("    meter + record question (1 tx):  " + Percentiles(meter).summary)
                report("    widget settings (1 tx):          " + Percentiles(settings).summary)
                report("    retrieval query, direct:          " + Percentiles(direct).summary)
                report("    retrieval through Ingest's HTTP:  " + Percentiles(overHTTP).summary)
            }
        } }
    }

    struct Sample: Sendable {
        var question: String
        var sent: ContinuousClock.Instant
        var firstByte: Duration
        var total: Duration
    }

    func startSession(chatPort: Int, widget: UUID, owner: UUID, issuer: InternalTokenIssuer) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(chatPort)/widget/v1/widgets/\(widget)/sessions")
        request.method = .POST
        request.headers.add(name: InternalTokenVerifier.header, value: try await issuer.token(for: .chat, customerID: nil, tenant: owner, requestID: "bench", plan: nil))
        request.headers.add(name: "X-Contexo-Client-IP", value: "198.51.100.\(Int.random(in: 1...250))")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (try JSONSerialization.jsonObject(with: Data(buffer: body)) as! [String: Any])["token"] as! String
    }

    func ask(chatPort: Int, widget: UUID, owner: UUID, session: String, question: String, issuer: InternalTokenIssuer) async throws -> Sample {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(chatPort)/widget/v1/widgets/\(widget)/messages")
        request.method = .POST
        request.headers.add(name: InternalTokenVerifier.header, value: try await issuer.token(for: .chat, customerID: nil, tenant: owner, requestID: "bench", plan: nil))
        request.headers.add(name: "X-Contexo-Session", value: session)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: ["message": question])))
        let sent = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let head = ContinuousClock.now
        var text = ""
        for try await chunk in response.body { text += String(buffer: chunk) }
        guard response.status == .ok, text.contains("event: done") else { fatalError("answer failed: \(response.status) \(text)") }
        return Sample(question: question, sent: sent, firstByte: head - sent, total: ContinuousClock.now - sent)
    }
}
