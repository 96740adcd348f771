import Foundation

/// One entry of a widget's domain allow-list (S5.1), as a browser `Origin` is compared with it.
///
/// Written by customers as `https://docs.example.com`, `docs.example.com` (https assumed),
/// `http://localhost:3000` (plain http only for localhost), or `https://*.example.com` (any
/// subdomain, not the apex). Stored normalised: lowercase scheme and host, no default port, no
/// path. Anything else — paths, credentials, queries, other schemes, a single-label host such as
/// `null` (the opaque origin of sandboxed frames and `file:` pages) — is refused.
public struct AllowedOrigin: Sendable, Hashable, Codable, CustomStringConvertible {
    public let scheme: String
    /// The host, without a leading `*.` for wildcards.
    public let host: String
    public let port: Int?
    public let wildcard: Bool

    public init?(_ text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        var scheme = "https"
        if let range = rest.range(of: "://") {
            scheme = String(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard scheme == "https" || scheme == "http", !rest.isEmpty,
              !rest.contains(where: { "/?#@ \\".contains($0) }) else { return nil }
        var hostPart = rest
        var port: Int?
        if let colon = rest.lastIndex(of: ":") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            port = (scheme == "https" && number == 443) || (scheme == "http" && number == 80) ? nil : number
            hostPart = rest[..<colon]
        }
        var wildcard = false
        if hostPart.hasPrefix("*.") {
            wildcard = true
            hostPart = hostPart.dropFirst(2)
        }
        let labels = hostPart.split(separator: ".", omittingEmptySubsequences: false)
        guard !labels.isEmpty, labels.count <= 127, hostPart.count <= 253,
              labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } })
        else { return nil }
        let host = String(hostPart)
        let local = host == "localhost" || host == "127.0.0.1"
        guard labels.count >= 2 || local else { return nil }        // not "null", not an intranet name
        guard scheme == "https" || local else { return nil }       // plain http only for local development
        guard !wildcard || labels.count >= 2 else { return nil }   // no "*.com"
        self.scheme = scheme
        self.host = host
        self.port = port
        self.wildcard = wildcard
    }

    public var description: String {
        "\(scheme)://\(wildcard ? "*." : "")\(host)\(port.map { ":\($0)" } ?? "")"
    }

    /// Whether a browser's `Origin` header value is allowed by this entry.
    public func allows(_ origin: String) -> Bool {
        guard let other = AllowedOrigin(origin), !other.wildcard,
              other.scheme == scheme, other.port == port else { return false }
        if wildcard { return other.host.hasSuffix("." + host) }
        return other.host == host
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let origin = AllowedOrigin(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not an allowed origin like https://docs.example.com: \(text)"))
        }
        self = origin
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
