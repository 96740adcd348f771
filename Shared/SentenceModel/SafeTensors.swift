import Foundation

/// A `.safetensors` file (Hugging Face's weight format): an 8-byte little-endian header length, a
/// JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
/// Only what a sentence-embedding model needs is read: `F32` tensors, copied out by name.
struct SafeTensors {
    /// One tensor's place in the file.
    struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    private let data: Data
    private let base: Int
    let entries: [String: Entry]

    init(contentsOf url: URL) throws {
        try self.init(data: Data(contentsOf: url, options: .alwaysMapped))
    }

    init(data: Data) throws {
        guard data.count >= 8 else { throw ModelLoadingError("the safetensors file is shorter than its header") }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(data.count - 8), length < 100 << 20 else {
            throw ModelLoadingError("the safetensors header length \(length) does not fit the file")
        }
        let header = data.subdata(in: 8..<(8 + Int(length)))
        guard let object = try JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw ModelLoadingError("the safetensors header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        for (name, value) in object where name != "__metadata__" {
            let json = try JSONSerialization.data(withJSONObject: value)
            entries[name] = try JSONDecoder().decode(Entry.self, from: json)
        }
        self.data = data
        self.base = 8 + Int(length)
        self.entries = entries
    }

    /// The `F32` tensor `name`, checked against `shape`, as a flat row-major array.
    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let entry = entries[name] else { throw ModelLoadingError("the model has no tensor \(name)") }
        guard entry.dtype == "F32" else { throw ModelLoadingError("\(name) is \(entry.dtype), expected F32") }
        guard entry.shape == shape else { throw ModelLoadingError("\(name) has shape \(entry.shape), expected \(shape)") }
        let count = shape.reduce(1, *)
        guard entry.data_offsets.count == 2, entry.data_offsets[1] - entry.data_offsets[0] == count * 4,
              base + entry.data_offsets[1] <= data.count, entry.data_offsets[0] >= 0 else {
            throw ModelLoadingError("\(name)'s byte range does not fit the file")
        }
        let start = base + entry.data_offsets[0]
        var result = [Float](repeating: 0, count: count)
        result.withUnsafeMutableBytes { target in
            data.copyBytes(to: target.bindMemory(to: UInt8.self), from: start..<(start + count * 4))
        }
        #if _endian(big)
        for index in result.indices { result[index] = Float(bitPattern: result[index].bitPattern.byteSwapped) }
        #endif
        return result
    }
}

/// Why the embedded model could not be loaded (a missing or damaged file, an unexpected shape).
public struct ModelLoadingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
