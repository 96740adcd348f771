import Foundation
import HummingbirdTesting
@testable import Ingest
import Logging
import Testing
import TestSupport

/// Vectors of two embedders never meet: each chunk records its embedder and dimension, a question
/// is compared only with chunks of the embedder that embedded it, and changing the embedder queues
/// the widget's documents again instead of mixing spaces.
@Suite(.timeLimit(.minutes(5))) struct EmbeddingSpaceTests {
    static func spaces(_ database: TestDatabase) async throws -> [String] {
        try await database.withConnection(database.adminURL) { connection in
            try await connection.query("""
                SELECT DISTINCT c.embedder || ':' || c.dimensions || ':' || coalesce(d.embedder, '-')
                FROM ingest.chunks c JOIN ingest.documents d ON d.id = c.document_id ORDER BY 1
                """, logger: Logger(label: "test")).collect().map { try $0.decode(String.self) }
        }
    }

    @Test func changingTheEmbedderReindexesInsteadOfMixingSpaces() async throws {
        try await withTestDatabase { database in
            let owner = UUID(), widget = UUID()
            let hashing = HashingEmbedder().model
            try await IngestHarness.app(database).test(.router) { client in
                _ = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "Refunds",
                                                  text: "Refunds are issued within 14 days of the purchase, to the card that paid.")
                _ = try await IngestHarness.paste(client, owner: owner, widget: widget, title: "Server",
                                                  text: "The server listens on port 6379 by default.")
                #expect(try await IngestHarness.settle(database) == 2)
            }
            #expect(try await Self.spaces(database) == ["\(hashing):768:\(hashing)"])

            let model = try await ModelEmbedder.load(directory: ModelEmbedderTests.modelDirectory).model
            try await IngestHarness.app(database, embeddings: .local).test(.router) { client in
                // The old vectors are not compared with the new model's question: full text alone ranks,
                // and the search queues the widget's documents again.
                let before = try await IngestHarness.search(client, owner: owner, widget: widget, query: "refunds for my purchase")
                #expect(!before.isEmpty && before.allSatisfy { $0.vectorRank == nil })
                #expect(try await IngestHarness.settle(database) == 2)
                #expect(try await Self.spaces(database) == ["\(model):384:\(model)"])
                // Now a paraphrase with no word in common finds the refund passage by meaning.
                let after = try await IngestHarness.search(client, owner: owner, widget: widget, query: "How can I get my money back?")
                #expect(after.first?.documentTitle == "Refunds")
                #expect(after.first?.vectorRank == 1)
            }

            // Back to the hashing embedder: listing the documents is enough to queue them again.
            try await IngestHarness.app(database).test(.router) { client in
                let list = try await IngestHarness.send(client, "/v1/documents?widget_id=\(widget.uuidString)", owner: owner)
                #expect(list.status == .ok && list.body.contains("\"queued\""))
                #expect(try await IngestHarness.settle(database) == 2)
                #expect(try await Self.spaces(database) == ["\(hashing):768:\(hashing)"])
            }
        }
    }
}
