import AsyncHTTPClient
import Chat
import Contract
import Foundation
import Ingest
import Logging
import NIOCore
import NIOHTTP1
import Platform
import ServiceLifecycle
import TestSupport

/// `scripts/bench quality`: answer quality the way a customer would judge it. Real documents
/// nobody here wrote (READMEs and guides, and man pages in German, French and Spanish, as Debian
/// packages install them) go into one widget per language through Ingest; visitors' questions
/// (`Benchmarks/quality/questions.json`) go to Chat with the embedded defaults (local embedder,
/// local answerer). An answer counts when it contains one of the facts the question expects; the
/// same check on the passages search returned tells retrieval misses from composition misses.
struct QualityBench {
    let environment: BenchEnvironment
    var logger: Logger { environment.logger }
    static let secret = String(repeating: "q", count: 40)

    struct Suite: Decodable {
        struct Document: Decodable { let widget: String; let path: String; let format: String; let title: String }
        struct Question: Decodable { let widget: String; let question: String; let expect: [String] }
        let documents: [Document]
        let questions: [Question]
    }

    func run() async throws {
        let file = ProcessInfo.processInfo.environment["BENCH_QUALITY_FILE"] ?? "Benchmarks/quality/questions.json"
        let suite = try JSONDecoder().decode(Suite.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        try await ChatBench.withChatAndIngest(environment, secret: Self.secret, provider: LocalAnswerProvider(pause: .zero)) { chat, ingest in
            try await evaluate(suite, chat: chat, ingest: ingest)
        }
    }

    private func evaluate(_ suite: Suite, chat: Int, ingest: Int) async throws {
        let issuer = await InternalTokenIssuer(secret: Self.secret, ticketKey: TestStack.ticketKey)
        func call(_ port: Int, _ path: String, method: HTTPMethod = .POST, customer: UUID?, tenant: UUID,
                  session: String? = nil, body: [String: Any]? = nil) async throws -> [String: Any] {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            let service: ServiceName = port == chat ? .chat : .ingest
            request.headers.add(name: InternalTokenVerifier.header,
                                value: try await issuer.token(for: service, customerID: customer, tenant: tenant, requestID: "quality", plan: nil))
            request.headers.add(name: "X-Contexo-Client-IP", value: "198.51.100.7")
            if let session { request.headers.add(name: "X-Contexo-Session", value: session) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let data = try await response.body.collect(upTo: 16 << 20)
            return (try? JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any]) ?? [:]
        }

        // One customer and widget per language, its documents uploaded as a customer would.
        var widgets: [String: (owner: UUID, widget: UUID)] = [:]
        for key in Set(suite.documents.map(\.widget)).sorted() {
            let owner = UUID()
            let created = try await call(chat, "/v1/widgets", customer: owner, tenant: owner,
                                         body: ["name": "Quality \(key)", "allowed_domains": []])
            widgets[key] = (owner, UUID(uuidString: created["id"] as? String ?? "")!)
        }
        for document in suite.documents {
            let (owner, widget) = widgets[document.widget]!
            let text = try await Self.read(document)
            _ = try await call(ingest, "/v1/documents", customer: owner, tenant: owner, body: [
                "widget_id": widget.uuidString, "title": document.title, "text": text,
                "format": document.format == "markdown" ? "markdown" : "text"])
        }
        for (_, (owner, widget)) in widgets {
            for _ in 0..<600 {
                let listed = try await call(ingest, "/v1/documents?widget_id=\(widget)", method: .GET, customer: owner, tenant: owner)
                let statuses = (listed["documents"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
                if !statuses.isEmpty && statuses.allSatisfy({ $0 == "ready" || $0 == "failed" }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        var answered: [String: (hits: Int, found: Int, total: Int)] = [:]
        var misses: [String] = []
        for question in suite.questions {
            let (owner, widget) = widgets[question.widget]!
            let session = try await call(chat, "/widget/v1/widgets/\(widget)/sessions", customer: nil, tenant: owner)["token"] as? String
            let reply = try await call(chat, "/widget/v1/widgets/\(widget)/messages", customer: nil, tenant: owner, session: session,
                                       body: ["message": question.question])
            let answer = reply["text"] as? String ?? ""
            let passages = try await call(ingest, "/internal/search", customer: owner, tenant: owner, body: [
                "widget_id": widget.uuidString, "query": question.question, "limit": AnswerService.passageLimit])
            let retrieved = (passages["passages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }.joined(separator: "\n")
            func holds(_ text: String) -> Bool { question.expect.contains { text.localizedCaseInsensitiveContains($0) } }
            var tally = answered[question.widget] ?? (0, 0, 0)
            tally.total += 1
            if holds(answer) { tally.hits += 1 } else {
                misses.append("  [\(question.widget)] \(question.question)\n      expected \(question.expect), "
                              + (holds(retrieved) ? "retrieved but not quoted" : "not retrieved")
                              + ": \(answer.prefix(160).replacingOccurrences(of: "\n", with: " ⏎ "))")
            }
            if holds(retrieved) { tally.found += 1 }
            answered[question.widget] = tally
        }
        let total = answered.values.reduce((0, 0, 0)) { ($0.0 + $1.hits, $0.1 + $1.found, $0.2 + $1.total) }
        report("== quality: \(suite.questions.count) questions over \(suite.documents.count) documents, embedded defaults (local embedder, local answerer)")
        for (key, tally) in answered.sorted(by: { $0.key < $1.key }) {
            report("  \(key): \(tally.hits)/\(tally.total) answers contain the fact; retrieval found it for \(tally.found)/\(tally.total)")
        }
        report(String(format: "  all: %d/%d answers (%.0f%%), retrieval %d/%d", total.0, total.2, 100 * Double(total.0) / Double(max(total.2, 1)),
                      total.1, total.2))
        if !misses.isEmpty { report("  misses:\n" + misses.joined(separator: "\n")) }
    }

    /// The document's text: gunzipped, and a man page rendered to plain text as `man` shows it.
    static func read(_ document: Suite.Document) async throws -> String {
        let path = document.path.replacingOccurrences(of: "'", with: "")
        let command = document.format == "man"
            ? "LC_ALL=C.UTF-8 MANWIDTH=100 man -l '\(path)' 2>/dev/null | col -bx"
            : (path.hasSuffix(".gz") ? "gzip -dc '\(path)'" : "cat '\(path)'")
        let (ended, output) = try await ChildProcess.run("/bin/sh", ["-c", command], timeout: .seconds(60))
        guard ended == .exited(0), !output.isEmpty else { throw BenchFailure("could not read \(document.path) (\(ended))") }
        return String(decoding: output, as: UTF8.self)
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
