import Foundation

/// The fallback (`CONTEXO_EMBEDDINGS_PROVIDER=hashing`): a deterministic, offline embedding by
/// feature hashing, with no model files at all. Each word (lower
/// case, light suffix folding, common English stop words dropped) and each pair of neighbouring
/// words is hashed (FNV-1a, the same on every machine) to one of 768 signed dimensions; character
/// trigrams add a weaker signal that tolerates inflection and typos. Texts that share words end up
/// close in cosine distance — lexical, not semantic, similarity, with no model to download.
public struct HashingEmbedder: Embedder {
    public let model = "contexo-hashing-768-v1"
    public var dimensions: Int { EmbeddingSpace.providerDimensions }

    public init() {}

    public func embed(documents: [EmbeddingInput]) async throws -> [[Float]] {
        documents.map { Self.vector(for: $0.text) }
    }

    public func embed(query: String) async throws -> [Float] {
        Self.vector(for: query)
    }

    public static func vector(for text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: EmbeddingSpace.providerDimensions)
        var previous: [UInt8]?
        for word in words(in: text) {
            add(word, weight: 1.0, to: &vector)
            if let previous { add(previous + [0x20] + word, weight: 0.5, to: &vector) }
            previous = word
            if word.count >= 4 {
                let padded = [0x5F] + word + [0x5F]
                for start in 0...(padded.count - 3) { add(Array(padded[start..<(start + 3)]), weight: 0.25, to: &vector) }
            }
        }
        return EmbeddingSpace.normalized(vector)
    }

    /// Lower-cased alphanumeric words without stop words, with plural and common suffixes folded.
    static func words(in text: String) -> [[UInt8]] {
        var words: [[UInt8]] = []
        var current: [UInt8] = []
        func finish() {
            defer { current.removeAll(keepingCapacity: true) }
            guard !current.isEmpty, !stopWords.contains(current) else { return }
            words.append(fold(current))
        }
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                for byte in String(scalar).lowercased().utf8 { current.append(byte) }
            } else {
                finish()
            }
        }
        finish()
        return words
    }

    private static func fold(_ word: [UInt8]) -> [UInt8] {
        for suffix in ["ing", "ed", "es", "s"] where word.count > suffix.count + 3 {
            let bytes = Array(suffix.utf8)
            if word.suffix(bytes.count).elementsEqual(bytes) { return Array(word.dropLast(bytes.count)) }
        }
        return word
    }

    private static func add(_ feature: [UInt8], weight: Float, to vector: inout [Float]) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in feature {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let index = Int(hash % UInt64(EmbeddingSpace.providerDimensions))
        vector[index] += (hash >> 63) == 0 ? weight : -weight
    }

    private static let stopWords: Set<[UInt8]> = Set([
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "how", "i",
        "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "than", "that", "the", "their",
        "them", "then", "there", "these", "this", "to", "us", "was", "we", "what", "when", "where", "which",
        "who", "why", "will", "with", "you", "your",
    ].map { Array($0.utf8) })
}
