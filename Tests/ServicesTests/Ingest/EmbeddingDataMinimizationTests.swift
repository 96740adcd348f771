import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingest
import Logging
import Platform
import Testing
import TestSupport

/// S8.1 for embeddings: the embedding provider receives the texts to embed (a tenant's own chunks,
/// with their document's title, or the visitor's question) and nothing that names a customer, a
/// widget, a document or a session; and no request mixes two tenants' texts.
@Suite(.timeLimit(.minutes(5))) struct EmbeddingDataMinimizationTests {
    static let aliceSecret = "Orchid-Lantern-7731 opens the back office"
    static let bobSecret = "Copper-Heron-2208 is the alarm code"

    @Test(arguments: ["openai", "gemini"])
    func theEmbedderSeesOnlyTheTextsItEmbeds(provider: String) async throws {
        try await withTestDatabase { database in
            let recorder = EmbeddingProviderTests.Recorder()
            let router = provider == "openai" ? EmbeddingProviderTests.openAI(recorder) : EmbeddingProviderTests.gemini(recorder)
            try await withLiveServer(router) { port in
                var configuration = await IngestHarness.configuration(database)
                configuration.embeddings = provider == "openai"
                    ? .init(provider: .openai, apiURL: "http://127.0.0.1:\(port)", apiKey: "sk-embed", model: "nomic-embed-text", timeout: .seconds(30))
                    : .init(provider: .gemini, apiURL: "http://127.0.0.1:\(port)/v1beta", apiKey: "gemini-key", timeout: .seconds(30))
                let alice = UUID(), bob = UUID(), aliceWidget = UUID(), bobWidget = UUID()
                try await Ingest.buildApplication(configuration: configuration, logger: Logger(label: "test")).test(.router) { client in
                    let uploads = [(alice, aliceWidget, "Alice handbook", "Staff entrance: \(Self.aliceSecret)."),
                                   (bob, bobWidget, "Bob handbook", "Security: \(Self.bobSecret).")]
                    var documents: [UUID] = []
                    for (owner, widget, title, text) in uploads {
                        let reply = try await IngestHarness.paste(client, owner: owner, widget: widget, title: title, text: text)
                        #expect(reply.status == .accepted, "\(reply.body)")
                        documents.append(try #require(reply.id))
                    }
                    #expect(try await IngestHarness.settle(database) == 2)
                    _ = try await IngestHarness.search(client, owner: alice, widget: aliceWidget, query: "Where is the staff entrance?")
                }
                let requests = recorder.requests.withLockedValue { $0 }
                #expect(requests.count >= 3, "two documents and one question were embedded")
                let identifiers = [alice, bob, aliceWidget, bobWidget].flatMap { [$0.uuidString, $0.uuidString.lowercased()] }
                    + [TestStack.internalSecret]
                var sawQuestion = false
                for (index, request) in requests.enumerated() {
                    let body = String(decoding: try JSONSerialization.data(withJSONObject: request.body), as: UTF8.self)
                    let everything = body + request.path + request.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                    for identifier in identifiers {
                        #expect(!everything.contains(identifier), "\(provider) request \(index) names \(identifier.prefix(12))…")
                    }
                    #expect(!(body.contains("Orchid-Lantern") && body.contains("Copper-Heron")), "\(provider) request \(index) mixes two tenants")
                    sawQuestion = sawQuestion || body.contains("Where is the staff entrance?")
                }
                #expect(sawQuestion, "positive control: the question itself is sent")
                #expect(requests.contains { String(describing: $0.body).contains("Orchid-Lantern") }, "positive control: Alice's text is sent")
            }
        }
    }
}
