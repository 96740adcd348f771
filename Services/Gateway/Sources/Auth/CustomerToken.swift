import Foundation
import JWTKit
import Platform

/// The claims of a Supabase-compatible access token that the gateway relies on. Everything else in
/// the token (`user_metadata` above all) is ignored: it is user-editable and never authorises.
struct CustomerTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var role: String?
    /// Shown on the account page only; never used to decide anything.
    var email: String?

    // Time, audience and issuer are checked by CustomerTokenVerifier with its own leeway.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The header fields read before any key is chosen.
struct TokenHeader: Decodable {
    var alg: String?
    var kid: String?
    var typ: String?

    /// Decodes the first segment of a compact JWS; nil when it is not three base64url segments.
    static func parse(_ token: String) -> TokenHeader? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }), let data = Data(base64URL: String(parts[0])) else {
            return nil
        }
        return try? JSONDecoder().decode(TokenHeader.self, from: data)
    }
}
