import Foundation

extension Data {
    /// Unpadded base64url (RFC 7515 §2), as in JWTs and visitor tokens.
    public func base64URLEncodedString() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes unpadded base64url, strictly: nil for padding, any character outside the alphabet,
    /// or a non-canonical encoding (unused low bits set in the last character), so that one value
    /// has exactly one accepted spelling (a token with flipped spare bits is a different token).
    public init?(base64URL text: some StringProtocol) {
        guard text.utf8.allSatisfy({ byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let decoded = Data(base64Encoded: base64), decoded.base64URLEncodedString() == text else { return nil }
        self = decoded
    }
}

/// Checks on the compact form of JWS tokens (JWTs) before a library parses them.
public enum CompactJWS {
    /// True when `token` is three non-empty, strictly canonical base64url segments. JWT libraries
    /// decode leniently; every token the project accepts is checked with this first.
    public static func isCanonical(_ token: some StringProtocol) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && Data(base64URL: $0) != nil }
    }
}
