import Crypto
import Foundation

/// Lemon Squeezy's webhook signature: the lowercase-hex HMAC-SHA256 of the raw request body, keyed
/// with the webhook's signing secret, sent as `X-Signature`. Checked on the exact bytes received,
/// before anything is parsed, in constant time.
public struct WebhookSignature: Sendable {
    private let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: Data(secret.utf8))
    }

    /// Whether `header` is the signature of `body`. A malformed header (not 64 hex digits) is simply
    /// not valid.
    public func isValid(_ header: String?, body: some DataProtocol) -> Bool {
        guard let header, let given = Self.decodeHex(header), given.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: body, using: key)
    }

    /// The signature of `body` (what Lemon Squeezy would send; used by tests and the fake server).
    public func sign(_ body: some DataProtocol) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: key).map { String(format: "%02x", $0) }.joined()
    }

    static func decodeHex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
