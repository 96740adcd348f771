import Contract
import Crypto
import Foundation
import JWTKit

/// The claims of the short-lived internal token (HS256 with `CONTEXO_INTERNAL_TOKEN_SECRET`): the
/// gateway signs one for each request it forwards, and a service signs one when it calls another
/// on a request's behalf (Chat asking Ingest to search, Ingest asking Chat who owns a widget).
/// Services trust a request only through it (S1.2): their internal ports are worthless without
/// the shared secret. The issuer claim stays `contexo-gateway` for every signer.
public struct InternalTokenClaims: JWTPayload, Equatable {
    public static let issuer = "contexo-gateway"

    public var iss: IssuerClaim
    /// The service the token was minted for; a token for chat is refused by billing.
    public var aud: AudienceClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    /// The authenticated customer (tenant) id, absent for anonymous traffic (widget visitors, webhooks).
    public var sub: SubjectClaim?
    /// The request id of the request that caused the call (the gateway's, passed along).
    public var rid: String
    /// The customer's plan and quota context.
    public var plan: PlanContext?
    /// The ``TenantTicket`` the receiving service presents to Postgres to enter the request's tenant
    /// (the customer, or the owner of the widget a visitor talks to).
    public var tkt: String?

    public init(audience: ServiceName, customerID: UUID?, requestID: String, plan: PlanContext?, ticket: TenantTicket? = nil,
                issuedAt: Date = Date(), lifetime: TimeInterval = InternalTokenIssuer.lifetime) {
        self.iss = .init(value: Self.issuer)
        self.aud = .init(value: audience.rawValue)
        self.iat = .init(value: issuedAt)
        self.exp = .init(value: issuedAt.addingTimeInterval(lifetime))
        self.sub = customerID.map { SubjectClaim(value: $0.uuidString.lowercased()) }
        self.rid = requestID
        self.plan = plan
        self.tkt = ticket?.text
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        // Audience, issuer and expiry are checked by InternalTokenVerifier with a small clock skew.
    }
}

/// Who called a service, as proven by a verified internal token.
public struct InternalCaller: Sendable, Equatable {
    public var customerID: UUID?
    public var gatewayRequestID: String
    public var plan: PlanContext?
    /// The tenant ticket the request carries, if any.
    public var ticket: TenantTicket?

    public init(customerID: UUID?, gatewayRequestID: String, plan: PlanContext?, ticket: TenantTicket? = nil) {
        self.customerID = customerID
        self.gatewayRequestID = gatewayRequestID
        self.plan = plan
        self.ticket = ticket
    }
}

/// Mints internal tokens. It signs on the caller's own task (HS256 with swift-crypto, the standard
/// compact JWT form that ``InternalTokenVerifier`` reads through JWTKit) rather than through
/// JWTKit's key-collection actor, which every forwarded request would otherwise queue on.
///
/// The gateway's issuer also holds the tenant ticket key and puts a fresh ``TenantTicket`` for the
/// request's tenant into each token. A service calling another on a request's behalf holds no such
/// key: its tokens carry the ticket its own request came with, and only for that tenant.
public struct InternalTokenIssuer: Sendable {
    /// How long an internal token lives: long enough for one forwarded request, short enough to be
    /// useless if it leaks into a log.
    public static let lifetime: TimeInterval = 60
    private let key: SymmetricKey
    private let ticketKey: TenantTicketKey?
    private static let header = Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8).base64URLEncodedString()

    /// - Parameter ticketKey: the key tenant tickets are signed with; the gateway's only.
    public init(secret: String, ticketKey: TenantTicketKey? = nil) async {
        key = SymmetricKey(data: Data(secret.utf8))
        self.ticketKey = ticketKey
    }

    /// A token for a call on behalf of `customerID`, with a tenant ticket for `tenant` (the
    /// customer unless said otherwise; a visitor's request names the widget's owner).
    public func token(for audience: ServiceName, customerID: UUID?, tenant: UUID? = nil, requestID: String,
                      plan: PlanContext?) async throws -> String {
        try sign(InternalTokenClaims(audience: audience, customerID: customerID, requestID: requestID, plan: plan,
                                     ticket: ticket(for: tenant ?? customerID)))
    }

    /// A fresh ticket when this issuer holds the key, else the current task's ticket when it names `tenant`.
    public func ticket(for tenant: UUID?) -> TenantTicket? {
        guard let tenant else { return nil }
        if let ticketKey { return ticketKey.mint(for: tenant) }
        return TenantTicket.current.flatMap { $0.tenant == tenant ? $0 : nil }
    }

    public func sign(_ claims: InternalTokenClaims) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let signingInput = Self.header + "." + (try encoder.encode(claims)).base64URLEncodedString()
        let signature = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key)
        return signingInput + "." + Data(signature).base64URLEncodedString()
    }
}

/// Verifies internal tokens for one service.
public struct InternalTokenVerifier: Sendable {
    public static let header = "X-Contexo-Internal-Token"
    /// Allowed clock difference between the gateway's host and this one.
    public static let clockSkew: TimeInterval = 5
    private let keys: JWTKeyCollection
    public let service: ServiceName

    public init(secret: String, service: ServiceName) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.service = service
    }

    /// The caller, or a problem saying why the token is not acceptable.
    public func verify(_ token: String, now: Date = Date()) async throws(Problem) -> InternalCaller {
        let claims: InternalTokenClaims
        do {
            guard CompactJWS.isCanonical(token) else { throw Problem.unauthorized("") }
            claims = try await keys.verify(token, as: InternalTokenClaims.self)
        } catch {
            throw .unauthorized("The internal token is not valid.")
        }
        guard claims.iss.value == InternalTokenClaims.issuer, claims.aud.value.contains(service.rawValue) else {
            throw .unauthorized("The internal token was not issued for this service.")
        }
        guard claims.exp.value.addingTimeInterval(Self.clockSkew) > now,
              claims.iat.value.addingTimeInterval(-Self.clockSkew) <= now
        else {
            throw .unauthorized("The internal token has expired.")
        }
        // Tokens are minted for one request: one that claims to live longer was not minted by an
        // issuer of ours, or leaked from a misconfigured one, and would stay useful for too long.
        guard claims.exp.value.timeIntervalSince(claims.iat.value) <= InternalTokenIssuer.lifetime + Self.clockSkew else {
            throw .unauthorized("The internal token lives longer than \(Int(InternalTokenIssuer.lifetime)) seconds.")
        }
        var customerID: UUID?
        if let subject = claims.sub {
            guard let id = UUID(uuidString: subject.value) else {
                throw .unauthorized("The internal token names no valid customer.")
            }
            customerID = id
        }
        var ticket: TenantTicket?
        if let text = claims.tkt {
            guard let parsed = TenantTicket(text) else { throw .unauthorized("The internal token carries a malformed tenant ticket.") }
            ticket = parsed
        }
        return InternalCaller(customerID: customerID, gatewayRequestID: claims.rid, plan: claims.plan, ticket: ticket)
    }
}
