import Foundation
import NIOFoundationCompat
import HTTPTypes
import Hummingbird
import JWTKit
import Platform

/// `POST /dev/token`: mints a customer access token for local use. Registered only when
/// `CONTEXO_ENV=development` and an HS256 secret is configured; absent (404) everywhere else.
struct DevelopmentTokenRoutes {
    struct TokenRequest: Decodable {
        var customerID: UUID?
        enum CodingKeys: String, CodingKey { case customerID = "customer_id" }
    }

    struct TokenResponse: ResponseEncodable {
        var token: String
        var customerID: UUID
        var expiresAt: Date
        enum CodingKeys: String, CodingKey {
            case token
            case customerID = "customer_id"
            case expiresAt = "expires_at"
        }
    }

    let secret: String
    let audience: String
    let issuer: String?

    func register(on router: Router<ContexoRequestContext>) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let audience = self.audience, issuer = self.issuer
        router.post("/dev/token") { request, context -> TokenResponse in
            // An empty body mints a token for a new customer; anything else must be valid JSON.
            var request = request
            let raw = try await request.collectBody(upTo: 4096)
            var body = TokenRequest()
            if raw.readableBytes > 0 {
                do {
                    body = try JSONDecoder().decode(TokenRequest.self, from: raw)
                } catch {
                    throw Problem.unprocessable(
                        #"The body must be empty or {"customer_id": "<uuid>"}."#, fields: ["customer_id"])
                }
            }
            let customer = body.customerID ?? UUID()
            let expires = Date().addingTimeInterval(3600)
            let claims = CustomerTokenClaims(
                sub: .init(value: customer.uuidString.lowercased()), aud: .init(value: audience),
                exp: .init(value: expires), nbf: nil, iat: .init(value: Date()),
                iss: issuer.map { IssuerClaim(value: $0) }, role: "authenticated")
            return TokenResponse(token: try await keys.sign(claims), customerID: customer, expiresAt: expires)
        }
    }
}
