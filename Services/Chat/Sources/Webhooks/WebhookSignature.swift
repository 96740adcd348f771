import Crypto
import Foundation
import Platform

/// The signature on every webhook delivery, in Stripe's scheme: the `Contexo-Signature` header is
/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, with one `v1` per valid secret
/// (two while a rotated secret is still honoured). A receiver recomputes the HMAC with its secret
/// over the exact bytes it received, compares in constant time with any `v1`, and refuses a
/// timestamp too far from its clock (replays).
public enum WebhookSignature {
    public static let header = "Contexo-Signature"

    /// The header's value for `body` sent at `timestamp`, signed with each of `secrets`.
    public static func value(timestamp: Int, body: some DataProtocol, secrets: [String]) -> String {
        let message = Data("\(timestamp).".utf8) + Data(body)
        let signatures = secrets.map { secret in
            HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
        }
        return (["t=\(timestamp)"] + signatures.map { "v1=\($0)" }).joined(separator: ",")
    }

    /// Whether `header` signs `body` with `secret`, at a time within `tolerance` of `now`: what a
    /// receiver does (the tests and the documentation's example do exactly this).
    public static func verify(header: String, body: some DataProtocol, secret: String, now: Date = Date(),
                              tolerance: TimeInterval = 300) -> Bool {
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { timestamp = Int(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1].lowercased()) }
        }
        guard let timestamp, abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { return false }
        let expected = value(timestamp: timestamp, body: body, secrets: [secret]).split(separator: "=").last.map(String.init) ?? ""
        return signatures.contains { constantTimeEquals(Array($0.utf8), Array(expected.utf8)) }
    }

    /// A new endpoint secret: `whsec_` and 32 random bytes in base64url.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "whsec_" + Data(bytes).base64URLEncodedString()
    }
}
