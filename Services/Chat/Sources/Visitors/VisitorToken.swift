import Crypto
import Foundation
import Platform

/// A visitor's session token (S5.3): `v1.<payload>.<signature>`, both base64url, the payload a JSON
/// object binding the widget, the session and the issue and expiry times, the signature its
/// HMAC-SHA256 under the server's secret. A token for widget A is refused on widget B, any altered
/// byte breaks the signature (checked in constant time), and an expired token is refused.
public struct VisitorToken: Sendable, Equatable {
    public var widgetID: UUID
    public var sessionID: UUID
    public var issuedAt: Date
    public var expiresAt: Date

    public init(widgetID: UUID, sessionID: UUID, issuedAt: Date, expiresAt: Date) {
        self.widgetID = widgetID
        self.sessionID = sessionID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// Why a token was refused (the visitor starts a new session).
    public enum Refusal: Error, Equatable {
        case malformed, badSignature, otherWidget, expired
    }

    struct Payload: Codable {
        var w: UUID
        var s: UUID
        var iat: Int64
        var exp: Int64
    }

    /// Signs and verifies tokens with one secret.
    public struct Signer: Sendable {
        let key: SymmetricKey

        public init(secret: String) { key = SymmetricKey(data: Data(secret.utf8)) }

        public func sign(_ token: VisitorToken) -> String {
            let payload = Payload(w: token.widgetID, s: token.sessionID, iat: Int64(token.issuedAt.timeIntervalSince1970),
                                  exp: Int64(token.expiresAt.timeIntervalSince1970))
            let body = "v1." + (try! JSONEncoder().encode(payload)).base64URLEncodedString()
            let signature = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: key)
            return body + "." + Data(signature).base64URLEncodedString()
        }

        /// The token's claims if it is genuine, for `widget`, and unexpired at `now`.
        public func verify(_ text: String, widget: UUID, now: Date = Date()) throws(Refusal) -> VisitorToken {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard text.utf8.count <= 1024, parts.count == 3, parts[0] == "v1",
                  let payloadData = Data(base64URL: parts[1]), let signature = Data(base64URL: parts[2]) else {
                throw .malformed
            }
            let signed = Data("\(parts[0]).\(parts[1])".utf8)
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) else {
                throw .badSignature
            }
            guard let payload = try? JSONDecoder().decode(Payload.self, from: payloadData) else { throw .malformed }
            guard payload.w == widget else { throw .otherWidget }
            guard Double(payload.exp) > now.timeIntervalSince1970 else { throw .expired }
            return VisitorToken(widgetID: payload.w, sessionID: payload.s,
                                issuedAt: Date(timeIntervalSince1970: Double(payload.iat)),
                                expiresAt: Date(timeIntervalSince1970: Double(payload.exp)))
        }
    }
}

/// Hashes visitor IPs with HMAC-SHA256 under a secret pepper (S5.2). A plain SHA-256 of an IPv4
/// address is reversed by hashing all 2^32 addresses; without the pepper that is impossible.
public struct IPHasher: Sendable {
    let key: SymmetricKey

    public init(pepper: String) { key = SymmetricKey(data: Data(pepper.utf8)) }

    /// 64 lower-case hex digits.
    public func hash(_ ip: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(ip.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }
}
