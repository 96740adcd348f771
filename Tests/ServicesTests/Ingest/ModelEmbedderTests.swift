import Foundation
import NIOPosix
@testable import SentenceModel
@testable import Ingest
import Testing

/// The embedded model against golden vectors that sentence-transformers on PyTorch computed for the
/// same files (`scripts/golden-embeddings.py`, run by hand): the tokenizer must give the same ids,
/// the encoder the same vector within float tolerance.
@Suite(.timeLimit(.minutes(5))) struct ModelEmbedderTests {
    struct Golden: Decodable {
        struct Case: Decodable {
            var text: String
            var ids: [Int32]
            var vector: [Float]
        }
        var maxSequenceLength: Int
        var cases: [Case]
    }

    static var modelDirectory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["CONTEXO_EMBEDDINGS_MODEL_PATH"] ?? ModelEmbedder.defaultDirectory)
    }

    static func golden() throws -> Golden {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/minilm-golden.json")
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: file))
    }

    @Test func theTokenizerGivesTheReferenceIDs() async throws {
        let golden = try Self.golden()
        let embedder = try await ModelEmbedder.load(directory: Self.modelDirectory)
        #expect(embedder.maximumTokens == golden.maxSequenceLength)
        for item in golden.cases {
            #expect(embedder.tokenizer.encode(item.text, maximumLength: golden.maxSequenceLength) == item.ids,
                    "\(item.text.prefix(60))")
        }
    }

    @Test func theEncoderMatchesTheReferenceVectors() async throws {
        let golden = try Self.golden()
        let embedder = try await ModelEmbedder.load(directory: Self.modelDirectory)
        #expect(embedder.dimensions == 384)
        // The reference truncates at the model's window; the encoder is compared on the same ids.
        // On NIO's thread pool, as the service runs it: the encoder blocks its thread.
        let vectors = try await NIOThreadPool.singleton.runIfActive {
            golden.cases.map { embedder.encoder.embed(embedder.tokenizer.encode($0.text, maximumLength: golden.maxSequenceLength)) }
        }
        for (item, vector) in zip(golden.cases, vectors) {
            #expect(vector.count == item.vector.count)
            let largest = zip(vector, item.vector).map { abs($0 - $1) }.max() ?? .infinity
            let cosine = zip(vector, item.vector).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(largest < 2e-4, "\(item.text.prefix(60)): largest difference \(largest)")
            #expect(cosine > 0.99999, "\(item.text.prefix(60)): cosine \(cosine)")
        }
        // Texts within the window are embedded exactly so, as questions or as documents.
        let query = try await embedder.embed(query: golden.cases[0].text)
        let documents = try await embedder.embed(documents: golden.cases.prefix(3).map { EmbeddingInput(text: $0.text) })
        #expect(query == vectors[0] && documents == Array(vectors.prefix(3)))
    }

    @Test func aTextLongerThanTheWindowIsTheMeanOfItsWindows() async throws {
        let embedder = try await ModelEmbedder.load(directory: Self.modelDirectory)
        let head = String(repeating: "Redis keeps its data in memory and writes snapshots to disk. ", count: 30)
        let tail = "To turn off seccomp filtering, set SYSTEMD_SECCOMP=0 in the environment."
        let long = try await embedder.embed(query: head + tail)
        let truncated = try await NIOThreadPool.singleton.runIfActive {
            embedder.encoder.embed(embedder.tokenizer.encode(head + tail, maximumLength: embedder.maximumTokens))
        }
        let question = try await embedder.embed(query: "How do I disable seccomp?")
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        // The end of the text, which truncation would drop, still moves the vector toward its question.
        #expect(cosine(long, question) > cosine(truncated, question) + 0.05)
        #expect(abs(long.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
    }

    @Test func aParaphraseIsNearerThanAnUnrelatedSentence() async throws {
        let embedder = try await ModelEmbedder.load(directory: Self.modelDirectory)
        let vectors = try await embedder.embed(documents: [
            EmbeddingInput(text: "How can I get my money back?"),
            EmbeddingInput(text: "Refunds are issued within 14 days of the purchase."),
            EmbeddingInput(text: "The server listens on port 6379 by default."),
        ])
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        // No word in common with the refund sentence, yet nearer to it than to the port sentence.
        #expect(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.1)
    }

    @Test func aMissingOrDamagedModelIsAClearError() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("contexo-no-model-\(UUID())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        await #expect(throws: (any Error).self) { try await ModelEmbedder.load(directory: empty) }
        try Data(contentsOf: Self.modelDirectory.appendingPathComponent("config.json"))
            .write(to: empty.appendingPathComponent("config.json"))
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0x7B]).write(to: empty.appendingPathComponent("model.safetensors"))
        await #expect(throws: ModelLoadingError.self) { try await ModelEmbedder.load(directory: empty) }
    }
}
