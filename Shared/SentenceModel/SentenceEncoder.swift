import COpenBLAS
import Foundation

/// A BERT encoder's forward pass (the architecture of all-MiniLM-L6-v2 and its kin) over OpenBLAS,
/// followed by sentence-transformers' mean pooling and L2 normalisation. One text at a time, so no
/// padding or attention mask is needed: every position is a real token. Weights are read once from
/// `model.safetensors` and `config.json`; the instance is immutable and safe to share.
///
/// Blocking CPU work: callers run it on a thread pool, never on Swift's cooperative pool.
public final class SentenceEncoder: Sendable {
    /// The parts of `config.json` the forward pass needs.
    public struct Configuration: Decodable, Sendable {
        public var hidden_size: Int
        public var num_hidden_layers: Int
        public var num_attention_heads: Int
        public var intermediate_size: Int
        public var max_position_embeddings: Int
        public var vocab_size: Int
        public var layer_norm_eps: Float
        public var hidden_act: String
        public var type_vocab_size: Int
    }

    struct Layer: Sendable {
        /// Query, key and value weights stacked into one `[3·hidden, hidden]` matrix, and their biases.
        var qkvWeight: [Float], qkvBias: [Float]
        var attentionOutWeight: [Float], attentionOutBias: [Float]
        var attentionNormWeight: [Float], attentionNormBias: [Float]
        var intermediateWeight: [Float], intermediateBias: [Float]
        var outputWeight: [Float], outputBias: [Float]
        var outputNormWeight: [Float], outputNormBias: [Float]
    }

    public let configuration: Configuration
    let wordEmbeddings: [Float]
    let positionEmbeddings: [Float]
    let tokenTypeEmbeddings: [Float]
    let embeddingNormWeight: [Float]
    let embeddingNormBias: [Float]
    let layers: [Layer]

    public var dimensions: Int { configuration.hidden_size }

    public init(directory: URL) throws {
        let configuration = try JSONDecoder().decode(
            Configuration.self, from: Data(contentsOf: directory.appendingPathComponent("config.json")))
        guard configuration.hidden_act == "gelu" else {
            throw ModelLoadingError("the model's activation \(configuration.hidden_act) is not supported (only gelu)")
        }
        guard configuration.hidden_size % configuration.num_attention_heads == 0 else {
            throw ModelLoadingError("hidden size \(configuration.hidden_size) does not split into \(configuration.num_attention_heads) heads")
        }
        let tensors = try SafeTensors(contentsOf: directory.appendingPathComponent("model.safetensors"))
        // Some exports prefix every name with the architecture ("bert.embeddings…").
        let prefix = tensors.entries["embeddings.word_embeddings.weight"] == nil ? "bert." : ""
        func tensor(_ name: String, _ shape: [Int]) throws -> [Float] { try tensors.floats(prefix + name, shape: shape) }
        let hidden = configuration.hidden_size, inner = configuration.intermediate_size
        self.configuration = configuration
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [configuration.vocab_size, hidden])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [configuration.max_position_embeddings, hidden])
        tokenTypeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [configuration.type_vocab_size, hidden])
        embeddingNormWeight = try tensor("embeddings.LayerNorm.weight", [hidden])
        embeddingNormBias = try tensor("embeddings.LayerNorm.bias", [hidden])
        layers = try (0..<configuration.num_hidden_layers).map { index in
            let name = "encoder.layer.\(index)."
            return Layer(
                qkvWeight: try ["query", "key", "value"].flatMap { try tensor(name + "attention.self.\($0).weight", [hidden, hidden]) },
                qkvBias: try ["query", "key", "value"].flatMap { try tensor(name + "attention.self.\($0).bias", [hidden]) },
                attentionOutWeight: try tensor(name + "attention.output.dense.weight", [hidden, hidden]),
                attentionOutBias: try tensor(name + "attention.output.dense.bias", [hidden]),
                attentionNormWeight: try tensor(name + "attention.output.LayerNorm.weight", [hidden]),
                attentionNormBias: try tensor(name + "attention.output.LayerNorm.bias", [hidden]),
                intermediateWeight: try tensor(name + "intermediate.dense.weight", [inner, hidden]),
                intermediateBias: try tensor(name + "intermediate.dense.bias", [inner]),
                outputWeight: try tensor(name + "output.dense.weight", [hidden, inner]),
                outputBias: try tensor(name + "output.dense.bias", [hidden]),
                outputNormWeight: try tensor(name + "output.LayerNorm.weight", [hidden]),
                outputNormBias: try tensor(name + "output.LayerNorm.bias", [hidden]))
        }
    }

    /// The unit-length sentence embedding of `ids` (`[CLS] … [SEP]`, at most the model's positions).
    public func embed(_ ids: [Int32]) -> [Float] {
        let count = min(ids.count, configuration.max_position_embeddings)
        let hidden = configuration.hidden_size
        var states = [Float](repeating: 0, count: count * hidden)
        for position in 0..<count {
            let word = Int(ids[position]).clamped(to: 0..<configuration.vocab_size) * hidden
            for column in 0..<hidden {
                states[position * hidden + column] = wordEmbeddings[word + column]
                    + positionEmbeddings[position * hidden + column] + tokenTypeEmbeddings[column]
            }
        }
        Self.normalize(&states, rows: count, weight: embeddingNormWeight, bias: embeddingNormBias, epsilon: configuration.layer_norm_eps)
        for layer in layers { apply(layer, to: &states, rows: count) }
        var pooled = [Float](repeating: 0, count: hidden)
        for position in 0..<count {
            for column in 0..<hidden { pooled[column] += states[position * hidden + column] }
        }
        let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 && norm.isFinite ? pooled.map { $0 / norm } : pooled
    }

    private func apply(_ layer: Layer, to states: inout [Float], rows: Int) {
        let hidden = configuration.hidden_size, heads = configuration.num_attention_heads
        let headSize = hidden / heads, inner = configuration.intermediate_size
        let qkv = Self.linear(states, rows: rows, inputs: hidden, weight: layer.qkvWeight, bias: layer.qkvBias, outputs: 3 * hidden)
        var context = [Float](repeating: 0, count: rows * hidden)
        var scores = [Float](repeating: 0, count: rows * rows)
        let scale = 1 / Float(headSize).squareRoot()
        qkv.withUnsafeBufferPointer { qkv in
            scores.withUnsafeMutableBufferPointer { scores in
                context.withUnsafeMutableBufferPointer { context in
                    for head in 0..<heads {
                        let query = qkv.baseAddress! + head * headSize
                        let key = query + hidden
                        let value = query + 2 * hidden
                        // scores = scale · Q_h K_hᵀ, then a softmax per row, then context_h = scores · V_h.
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(rows), Int32(headSize),
                                    scale, query, Int32(3 * hidden), key, Int32(3 * hidden), 0, scores.baseAddress, Int32(rows))
                        for row in 0..<rows { VectorMath.softmax(scores.baseAddress! + row * rows, count: rows) }
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(headSize), Int32(rows),
                                    1, scores.baseAddress, Int32(rows), value, Int32(3 * hidden), 0,
                                    context.baseAddress! + head * headSize, Int32(hidden))
                    }
                }
            }
        }
        var attended = Self.linear(context, rows: rows, inputs: hidden, weight: layer.attentionOutWeight,
                                   bias: layer.attentionOutBias, outputs: hidden)
        for index in attended.indices { attended[index] += states[index] }
        Self.normalize(&attended, rows: rows, weight: layer.attentionNormWeight, bias: layer.attentionNormBias,
                       epsilon: configuration.layer_norm_eps)
        var intermediate = Self.linear(attended, rows: rows, inputs: hidden, weight: layer.intermediateWeight,
                                       bias: layer.intermediateBias, outputs: inner)
        VectorMath.gelu(&intermediate)  // BERT's exact (erf) GELU
        var output = Self.linear(intermediate, rows: rows, inputs: inner, weight: layer.outputWeight,
                                 bias: layer.outputBias, outputs: hidden)
        for index in output.indices { output[index] += attended[index] }
        Self.normalize(&output, rows: rows, weight: layer.outputNormWeight, bias: layer.outputNormBias,
                       epsilon: configuration.layer_norm_eps)
        states = output
    }

    /// `input · weightᵀ + bias`, with `weight` stored as PyTorch's `Linear` does: `[outputs, inputs]`.
    static func linear(_ input: [Float], rows: Int, inputs: Int, weight: [Float], bias: [Float], outputs: Int) -> [Float] {
        var result = [Float](repeating: 0, count: rows * outputs)
        for row in 0..<rows {
            for column in 0..<outputs { result[row * outputs + column] = bias[column] }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs),
                    1, input, Int32(inputs), weight, Int32(inputs), 1, &result, Int32(outputs))
        return result
    }

    /// Layer normalisation of each row (mean 0, variance 1, then scaled and shifted).
    static func normalize(_ states: inout [Float], rows: Int, weight: [Float], bias: [Float], epsilon: Float) {
        let width = weight.count
        for row in 0..<rows {
            let start = row * width
            var mean: Float = 0
            for column in 0..<width { mean += states[start + column] }
            mean /= Float(width)
            var variance: Float = 0
            for column in 0..<width {
                let centered = states[start + column] - mean
                variance += centered * centered
            }
            variance /= Float(width)
            let scale = 1 / (variance + epsilon).squareRoot()
            for column in 0..<width {
                states[start + column] = (states[start + column] - mean) * scale * weight[column] + bias[column]
            }
        }
    }
}

extension Int {
    fileprivate func clamped(to range: Range<Int>) -> Int { Swift.min(Swift.max(self, range.lowerBound), range.upperBound - 1) }
}
