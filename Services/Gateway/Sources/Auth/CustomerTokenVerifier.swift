import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import Platform

/// Verifies customers' access tokens on every dashboard request (S3.2): HS256 with a shared secret
/// and/or ES256/RS256 keys from a JWKS URL. The header's `alg` must be on the allow-list and match
/// the key it selects (no `none`, no HS/RS confusion); `exp`/`nbf` allow a small skew; `aud` must
/// contain the configured audience; `iss` must match when configured; `service_role` tokens are
/// refused, and so is a token valid for more than `maximumLifetime` from now (S3.2: short-lived). An
/// unknown `kid` refreshes the JWKS, at most once per `refreshInterval`.
actor CustomerTokenVerifier {
    struct Settings: Sendable {
        var hmacSecret: String?
        var jwksURL: URL?
        var audience = "authenticated"
        var issuer: String?
        var leeway: TimeInterval = 30
        /// S3.2, short-lived tokens: one still valid for longer than this from now is refused
        /// (Supabase issues one-hour access tokens; a token good for weeks is a leaked one's dream).
        var maximumLifetime: TimeInterval = 86_400
        var refreshInterval: Duration = .seconds(60)
        /// How long one JWKS fetch may take before the old keys are kept.
        var fetchTimeout: TimeAmount = .seconds(3)
    }

    private let settings: Settings
    private let httpClient: HTTPClient
    private let logger: Logger
    private var hmacKeys: JWTKeyCollection?
    private var jwksKeys = JWTKeyCollection()
    /// `kid` → the algorithm its JWK declares.
    private var jwksAlgorithms: [String: String] = [:]
    private var lastRefresh: ContinuousClock.Instant?

    init(settings: Settings, httpClient: HTTPClient, logger: Logger) async {
        self.settings = settings
        self.httpClient = httpClient
        self.logger = logger
        if let secret = settings.hmacSecret {
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            hmacKeys = keys
        }
    }

    /// The customer the token names, or a 401 problem that says what is wrong.
    func verify(_ token: String, now: Date = Date()) async throws(Problem) -> VerifiedCustomer {
        guard CompactJWS.isCanonical(token), let header = TokenHeader.parse(token), let alg = header.alg else {
            throw .unauthorized("The bearer token is not a JWT.")
        }
        let claims: CustomerTokenClaims
        switch alg {
        case "HS256":
            // Only when a shared secret is configured, and never for a token that names a JWKS key.
            guard let hmacKeys, header.kid == nil || jwksAlgorithms[header.kid!] == nil else {
                throw .unauthorized("Tokens signed with HS256 are not accepted.")
            }
            claims = try await verifySignature(token, with: hmacKeys)
        case "ES256", "RS256":
            guard settings.jwksURL != nil else { throw .unauthorized("Tokens signed with \(alg) are not accepted.") }
            guard let kid = header.kid else { throw .unauthorized("The token names no signing key (kid).") }
            if jwksAlgorithms[kid] == nil { await refreshKeys() }
            guard let keyAlgorithm = jwksAlgorithms[kid] else {
                throw .unauthorized("The token's signing key is unknown.")
            }
            guard keyAlgorithm == alg else { throw .unauthorized("The token's algorithm does not match its key.") }
            claims = try await verifySignature(token, with: jwksKeys)
        default:
            throw .unauthorized("Tokens signed with \(alg) are not accepted.")
        }
        return try check(claims, now: now)
    }

    private func verifySignature(_ token: String, with keys: JWTKeyCollection) async throws(Problem) -> CustomerTokenClaims {
        do {
            return try await keys.verify(token, as: CustomerTokenClaims.self)
        } catch {
            throw .unauthorized("The token's signature is not valid.")
        }
    }

    private func check(_ claims: CustomerTokenClaims, now: Date) throws(Problem) -> VerifiedCustomer {
        guard claims.exp.value.addingTimeInterval(settings.leeway) > now else {
            throw .unauthorized("The token has expired.")
        }
        guard claims.exp.value.timeIntervalSince(now) <= settings.maximumLifetime + settings.leeway else {
            throw .unauthorized("The token is valid for too long; access tokens must be short-lived.")
        }
        if let notBefore = claims.nbf, notBefore.value.addingTimeInterval(-settings.leeway) > now {
            throw .unauthorized("The token is not valid yet.")
        }
        guard claims.aud.value.contains(settings.audience) else {
            throw .unauthorized("The token was not issued for this API.")
        }
        if let issuer = settings.issuer, claims.iss?.value != issuer {
            throw .unauthorized("The token was issued by someone else.")
        }
        // Supabase signs signed-in users' tokens with role `authenticated`; `service_role` (in any
        // spelling) and `anon` keys are not customers.
        if let role = claims.role, role != "authenticated" {
            throw .unauthorized(role.lowercased() == "service_role"
                ? "Service tokens cannot call customer routes." : "Only a signed-in customer's token can call customer routes.")
        }
        guard let id = UUID(uuidString: claims.sub.value) else {
            throw .unauthorized("The token names no customer.")
        }
        let email = claims.email.flatMap { $0.isEmpty || $0.count > 320 ? nil : $0 }
        return VerifiedCustomer(id: id, expiresAt: claims.exp.value.addingTimeInterval(settings.leeway), email: email)
    }

    /// Fetches the JWKS again, at most once per `refreshInterval`; failures keep the old keys.
    private func refreshKeys() async {
        guard let url = settings.jwksURL else { return }
        if let lastRefresh, ContinuousClock.now - lastRefresh < settings.refreshInterval { return }
        lastRefresh = ContinuousClock.now
        do {
            var request = HTTPClientRequest(url: url.absoluteString)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await httpClient.execute(request, timeout: settings.fetchTimeout)
            guard response.status == .ok else { throw JWKSFetchError(status: Int(response.status.code)) }
            let body = try await response.body.collect(upTo: 1 << 20)
            let jwks = try JSONDecoder().decode(JWKS.self, from: Data(buffer: body))
            let keys = JWTKeyCollection()
            var algorithms: [String: String] = [:]
            for key in jwks.keys {
                guard let kid = key.keyIdentifier?.string, let alg = key.algorithm?.rawValue, ["ES256", "RS256"].contains(alg)
                else { continue }
                do {
                    try await keys.add(jwk: key)
                    algorithms[kid] = alg
                } catch {
                    logger.warning("ignoring a JWKS key", metadata: ["kid": "\(kid)", "error": "\(error)"])
                }
            }
            jwksKeys = keys
            jwksAlgorithms = algorithms
            logger.info("JWKS refreshed", metadata: ["keys": "\(algorithms.count)"])
        } catch {
            logger.warning("JWKS refresh failed; keeping the previous keys", metadata: ["error": "\(error)"])
        }
    }
}

/// A customer whose token verified.
struct VerifiedCustomer: Sendable, Equatable {
    let id: UUID
    /// The token's `exp` plus the allowed skew: when it stops being accepted.
    var expiresAt: Date = .distantFuture
    /// The token's `email` claim, when it has a non-empty one.
    var email: String?
}

struct JWKSFetchError: Error {
    let status: Int
}
