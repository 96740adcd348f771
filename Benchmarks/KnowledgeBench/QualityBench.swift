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

    /// One way to configure search: the embedder, and whether the full-text leg runs beside it.
    struct Variant {
        let name: String
        let embedder: EmbeddingProviderKind
        let fullText: Bool
    }

    /// The default first (its misses are listed), then what each part contributes.
    static let variants = [
        Variant(name: "model + full text (default)", embedder: .local, fullText: true),
        Variant(name: "model alone", embedder: .local, fullText: false),
        Variant(name: "hashing + full text", embedder: .hashing, fullText: true),
        Variant(name: "hashing alone", embedder: .hashing, fullText: false),
    ]

    /// What one variant scored over the whole set.
    struct Score {
        var answers = 0, hitAt1 = 0, hitAt5 = 0, total = 0
        var reciprocalRanks = 0.0
        var ingestSeconds = 0.0
        var byWidget: [String: (hits: Int, found: Int, total: Int)] = [:]
        var misses: [String] = []
    }

    func run() async throws {
        let file = ProcessInfo.processInfo.environment["BENCH_QUALITY_FILE"] ?? "Benchmarks/quality/questions.json"
        let suite = try JSONDecoder().decode(Suite.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        let modelPath = ProcessInfo.processInfo.environment["CONTEXO_EMBEDDINGS_MODEL_PATH"]
        let variants = switch ProcessInfo.processInfo.environment["BENCH_QUALITY_VARIANTS"] {
        case "default": [Self.variants[0]]
        case "model": Self.variants.filter { $0.embedder == .local }
        default: Self.variants
        }
        var scores: [(Variant, Score)] = []
        for variant in variants {
            try await ChatBench.withChatAndIngest(environment, secret: Self.secret, provider: LocalAnswerProvider(pause: .zero), configure: {
                $0.embeddings.provider = variant.embedder
                $0.searchesFullText = variant.fullText
                if let modelPath { $0.embeddingModelDirectory = URL(fileURLWithPath: modelPath) }
            }) { chat, ingest in
                scores.append((variant, try await evaluate(suite, chat: chat, ingest: ingest)))
            }
        }
        report("== quality: \(suite.questions.count) visitor questions over \(suite.documents.count) documents, local answerer")
        report("  variant                       answers with the fact   hit@1   hit@5   MRR@10   ingest s")
        for (variant, score) in scores {
            let total = Double(max(score.total, 1))
            report(String(format: "  %@ %3d/%d (%3.0f%%)          %.2f    %.2f    %.2f     %6.1f",
                          variant.name.padding(toLength: 29, withPad: " ", startingAt: 0) as NSString,
                          score.answers, score.total, 100 * Double(score.answers) / total, Double(score.hitAt1) / total,
                          Double(score.hitAt5) / total, score.reciprocalRanks / total, score.ingestSeconds))
        }
        guard let (variant, score) = scores.first else { return }
        report("  \(variant.name), by widget:")
        for (key, tally) in score.byWidget.sorted(by: { $0.key < $1.key }) {
            report("    \(key): \(tally.hits)/\(tally.total) answers contain the fact; the top \(AnswerService.passageLimit) passages held it for \(tally.found)/\(tally.total)")
        }
        if !score.misses.isEmpty { report("  misses:\n" + score.misses.joined(separator: "\n")) }
    }

    private func evaluate(_ suite: Suite, chat: Int, ingest: Int) async throws -> Score {
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
        let started = ContinuousClock.now
        for document in suite.documents {
            let (owner, widget) = widgets[document.widget]!
            let text = try await Self.read(document)
            _ = try await call(ingest, "/v1/documents", customer: owner, tenant: owner, body: [
                "widget_id": widget.uuidString, "title": document.title, "text": text,
                "format": document.format == "markdown" ? "markdown" : "text"])
        }
        for (_, (owner, widget)) in widgets {
            for _ in 0..<6000 {
                let listed = try await call(ingest, "/v1/documents?widget_id=\(widget)", method: .GET, customer: owner, tenant: owner)
                let statuses = (listed["documents"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }
                if !statuses.isEmpty && statuses.allSatisfy({ $0 == "ready" || $0 == "failed" }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        var score = Score()
        score.ingestSeconds = seconds(ContinuousClock.now - started)

        for question in suite.questions {
            let (owner, widget) = widgets[question.widget]!
            let session = try await call(chat, "/widget/v1/widgets/\(widget)/sessions", customer: nil, tenant: owner)["token"] as? String
            let reply = try await call(chat, "/widget/v1/widgets/\(widget)/messages", customer: nil, tenant: owner, session: session,
                                       body: ["message": question.question])
            let answer = reply["text"] as? String ?? ""
            let found = try await call(ingest, "/internal/search", customer: owner, tenant: owner, body: [
                "widget_id": widget.uuidString, "query": question.question, "limit": 10])
            let passages = (found["passages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            func holds(_ text: String) -> Bool { question.expect.contains { text.localizedCaseInsensitiveContains($0) } }
            // Retrieval: the rank of the first passage holding the fact (the answerer sees the top passageLimit).
            let rank = passages.firstIndex(where: holds).map { $0 + 1 }
            let retrieved = rank.map { $0 <= AnswerService.passageLimit } ?? false
            if rank == 1 { score.hitAt1 += 1 }
            if let rank, rank <= 5 { score.hitAt5 += 1 }
            score.reciprocalRanks += rank.map { 1 / Double($0) } ?? 0
            score.total += 1
            var tally = score.byWidget[question.widget] ?? (0, 0, 0)
            tally.total += 1
            if holds(answer) {
                tally.hits += 1
                score.answers += 1
            } else {
                score.misses.append("  [\(question.widget)] \(question.question)\n      expected \(question.expect), "
                                    + (retrieved ? "retrieved but not quoted" : "not retrieved")
                                    + ": \(answer.prefix(160).replacingOccurrences(of: "\n", with: " ⏎ "))")
            }
            if retrieved { tally.found += 1 }
            score.byWidget[question.widget] = tally
        }
        return score
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
