import Foundation

/// A `multipart/form-data` body (RFC 7578) split into its parts. Enough for browser and curl
/// uploads: each part's name, file name, content type and bytes; nested multiparts are not read.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var data: Data
    }

    var parts: [Part]

    /// The boundary of a `multipart/form-data` content type, if it is one.
    static func boundary(of contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            let value = piece.dropFirst("boundary=".count)
            let unquoted = value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 ? value.dropFirst().dropLast() : value
            return unquoted.isEmpty || unquoted.count > 70 ? nil : String(unquoted)
        }
        return nil
    }

    init?(_ body: Data, boundary: String) {
        let delimiter = Data("--\(boundary)".utf8)
        let bytes = body
        guard var cursor = bytes.range(of: delimiter)?.upperBound else { return nil }
        var parts: [Part] = []
        while true {
            // After a delimiter: "--" ends the body, CRLF starts a part.
            if bytes[cursor...].starts(with: Data("--".utf8)) { break }
            guard bytes[cursor...].starts(with: Data("\r\n".utf8)) else { return nil }
            cursor += 2
            guard let headerEnd = bytes.range(of: Data("\r\n\r\n".utf8), in: cursor..<bytes.endIndex) else { return nil }
            let headers = String(decoding: bytes[cursor..<headerEnd.lowerBound], as: UTF8.self)
            let contentStart = headerEnd.upperBound
            guard let next = bytes.range(of: Data("\r\n".utf8) + delimiter, in: contentStart..<bytes.endIndex) else { return nil }
            var part = Part(name: "", filename: nil, contentType: nil, data: bytes.subdata(in: contentStart..<next.lowerBound))
            for line in headers.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if name == "content-type" { part.contentType = value }
                if name == "content-disposition" {
                    part.name = Self.parameter("name", in: value) ?? ""
                    part.filename = Self.parameter("filename", in: value)
                }
            }
            parts.append(part)
            cursor = next.upperBound
        }
        self.parts = parts
    }

    subscript(name: String) -> Part? { parts.first { $0.name == name } }

    /// A parameter of a header such as `form-data; name="file"; filename="a;b \"c\".pdf"`. Quoted
    /// values may hold `;` and escaped quotes (RFC 7578 §4.2, RFC 2045 quoted strings).
    static func parameter(_ name: String, in header: String) -> String? {
        for piece in pieces(of: header) {
            guard piece.lowercased().hasPrefix("\(name)=") else { continue }
            var value = Substring(piece.dropFirst(name.count + 1))
            guard value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 else { return String(value) }
            value = value.dropFirst().dropLast()
            var unescaped = "", escaped = false
            for character in value {
                if escaped || character != "\\" {
                    unescaped.append(character)
                    escaped = false
                } else {
                    escaped = true
                }
            }
            return unescaped
        }
        return nil
    }

    /// The header split at each `;` outside a quoted string, trimmed.
    private static func pieces(of header: String) -> [String] {
        var pieces: [String] = [], current = "", quoted = false, escaped = false
        for character in header {
            if escaped {
                escaped = false
            } else if quoted && character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ";" && !quoted {
                pieces.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
                continue
            }
            current.append(character)
        }
        pieces.append(current.trimmingCharacters(in: .whitespaces))
        return pieces
    }
}
