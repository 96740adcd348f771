import Crypto
import Foundation
import NIOCore

/// The one-time secret that binds a checkout to the customer who started it (S6.3). 256 bits from
/// the system CSPRNG, sent to Lemon Squeezy inside `custom_data` and echoed back in the signed
/// webhook; Billing stores only its SHA-256, so the database alone cannot complete a checkout.
struct CheckoutNonce: Sendable, Equatable {
    /// base64url without padding (43 characters).
    let value: String

    static func mint() -> CheckoutNonce {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return CheckoutNonce(value: Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: ""))
    }

    /// The stored form (a `bytea`).
    var hash: ByteBuffer { Self.hash(value) }

    static func hash(_ value: String) -> ByteBuffer { ByteBuffer(bytes: SHA256.hash(data: Data(value.utf8))) }
}

/// What a checkout nonce is for: the event kind that may consume it.
enum CheckoutPurpose: String, Sendable {
    /// Consumed by the first subscription event of the new subscription.
    case subscription
    /// Consumed by the `order_created` of a credit pack.
    case credits
}
