import Foundation
import Hummingbird
import NIOCore

/// Reads a JSON request body into a `Decodable`, turning every way it can be wrong into a problem
/// that says what to fix: 415 for another media type, 413 for an oversized body, 400 for bytes
/// that are not JSON, 422 naming the field that is missing or has the wrong type, and 422 for a
/// NUL character (`\u0000`), which no Postgres `text` column can store.
public enum JSONInput {
    public static let defaultMaximumBytes = 64 * 1024

    public static func decode<T: Decodable>(
        _ type: T.Type, from request: Request, context: ContexoRequestContext, maximumBytes: Int = defaultMaximumBytes
    ) async throws -> T {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" || mediaType?.hasSuffix("+json") == true else {
            throw Problem(status: .unsupportedMediaType, slug: "media-type", title: "Unsupported Media Type",
                          detail: "Send the body as application/json.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBytes)
        } catch {
            throw Problem.tooLarge("The body may be at most \(maximumBytes) bytes.")
        }
        return try decode(type, from: Data(buffer: buffer))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Problem) -> T {
        if containsEscapedNUL(data) {
            throw Problem.unprocessable("Text must not contain the NUL character (\\u0000).")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context) where context.codingPath.isEmpty:
                throw Problem.badRequest("The body is not valid JSON.")
            case .keyNotFound(let key, let context):
                let field = path(context.codingPath + [key])
                throw Problem.unprocessable("\(field) is required.", fields: [field])
            case .typeMismatch(let expected, let context):
                let field = path(context.codingPath)
                throw Problem.unprocessable("\(field) must be \(describe(expected)).", fields: [field])
            case .valueNotFound(let expected, let context):
                let field = path(context.codingPath)
                throw Problem.unprocessable("\(field) must be \(describe(expected)), not null.", fields: [field])
            case .dataCorrupted(let context):
                let field = path(context.codingPath)
                throw Problem.unprocessable("\(field): \(context.debugDescription)", fields: [field])
            @unknown default:
                throw Problem.unprocessable("The body does not have the expected shape.")
            }
        } catch {
            throw Problem.badRequest("The body is not valid JSON.")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "body" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    /// Whether a JSON text has a `\u0000` escape (an odd run of backslashes before `u0000`; a raw NUL
    /// byte is not valid JSON and fails decoding anyway).
    static func containsEscapedNUL(_ data: Data) -> Bool {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
            let backslash = UInt8(ascii: "\\"), zero = UInt8(ascii: "0")
            var index = 0, backslashes = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == backslash {
                    backslashes += 1
                } else {
                    if backslashes % 2 == 1, byte == UInt8(ascii: "u"), index + 4 < bytes.count,
                       bytes[index + 1] == zero, bytes[index + 2] == zero, bytes[index + 3] == zero, bytes[index + 4] == zero {
                        return true
                    }
                    backslashes = 0
                }
                index += 1
            }
            return false
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}

extension StringProtocol {
    /// The length Postgres' `char_length` gives: Unicode scalars, not Swift's grapheme clusters (an
    /// "é" written as e + U+0301 is one `Character` and two scalars). Limits that a database CHECK
    /// also enforces must count this way, or a valid-looking text fails at the insert (a 500).
    public var storedLength: Int { unicodeScalars.count }
}
