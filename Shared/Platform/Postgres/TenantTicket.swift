import Crypto
import Foundation

/// Proof, signed outside the service that holds it, that the service may enter one tenant in
/// Postgres (S1.1). Row-level security trusts a tenant only through `contexo_tickets.enter(ticket)`,
/// which checks the signature with a key the service roles cannot read; setting the tenant by hand
/// shows no rows.
///
/// Three signers, one form (`t1.<key id>.<tenant>.<expires>.<scope>.<HMAC-SHA256 hex>`):
/// - the gateway, for the customer of a request or the owner of the widget a visitor talks to
///   (scope `r`, minutes long);
/// - Postgres itself, for each event a tenant transaction writes to an outbox (scope `e-<event id>`):
///   a consumer may use it in one committed transaction only;
/// - Postgres itself, inside the definer functions of fixed maintenance jobs (scope `m`).
///
/// The text is a credential: it is never logged (``description`` shows the tenant only).
public struct TenantTicket: Sendable, Hashable, CustomStringConvertible {
    /// The tenant the ticket claims; Postgres decides whether the claim holds.
    public let tenant: UUID
    /// The ticket as it travels (internal token claim `tkt`, stream entry field `tenant_ticket`).
    public let text: String

    /// Reads the tenant a ticket names; nil when `text` is not a ticket at all. Says nothing about
    /// the signature: only Postgres can check it.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.utf8.count <= 512, parts.count == 6, parts[0] == "t1", let tenant = UUID(uuidString: String(parts[2])),
              parts[2] == Substring(tenant.uuidString.lowercased()), Int64(parts[3]) != nil,
              parts[5].count == 64, parts[5].allSatisfy(\.isHexDigit)
        else { return nil }
        self.tenant = tenant
        self.text = String(text)
    }

    public var description: String { "tenant ticket for \(tenant.uuidString.lowercased())" }

    /// The ticket the current request or event runs under: set by ``InternalAuthMiddleware`` from
    /// the internal token and by the stream consumer for each event. Tenant transactions present it.
    @TaskLocal public static var current: TenantTicket?
}

/// One key that tenant tickets are signed with (`CONTEXO_TENANT_TICKET_KEYS`): the gateway signs
/// with the first, Postgres accepts any of them (so a key can be rotated) and signs its own tickets
/// with the first. The migrator copies them into `contexo_tickets.keys`; services never hold them.
public struct TenantTicketKey: Sendable, Equatable {
    public let id: String
    public let secret: Data

    /// How long a ticket the gateway mints for a request lives: long enough for a streamed answer
    /// or an account export, short enough to be useless soon after it leaks.
    public static let requestLifetime: TimeInterval = 600

    public init(id: String, secret: Data) throws(TenantTicketKeyError) {
        guard id.range(of: #"^[a-z0-9_-]{1,32}$"#, options: .regularExpression) != nil else { throw .invalidID(id) }
        // At most one SHA-256 block: Postgres computes the HMAC from pads of the raw key.
        guard (32...64).contains(secret.count) else { throw .tooShort(id) }
        self.id = id
        self.secret = secret
    }

    /// `id:base64url-secret[,id:base64url-secret…]`, the signing key first.
    public static func list(_ text: String) throws(TenantTicketKeyError) -> [TenantTicketKey] {
        var keys: [TenantTicketKey] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let secret = Data(base64URL: parts[1]) else { throw .malformed }
            let key = try TenantTicketKey(id: String(parts[0]), secret: secret)
            guard !keys.contains(where: { $0.id == key.id }) else { throw .duplicateID(key.id) }
            keys.append(key)
        }
        guard !keys.isEmpty else { throw .malformed }
        return keys
    }

    /// The configuration text of `keys` (what ``list(_:)`` reads).
    public static func text(_ keys: [TenantTicketKey]) -> String {
        keys.map { "\($0.id):\($0.secret.base64URLEncodedString())" }.joined(separator: ",")
    }

    /// A request ticket for `tenant`.
    public func mint(for tenant: UUID, lifetime: TimeInterval = TenantTicketKey.requestLifetime, now: Date = Date()) -> TenantTicket {
        mint(for: tenant, scope: "r", expires: Int64((now.timeIntervalSince1970 + lifetime).rounded(.down)))
    }

    /// A ticket with any scope and expiry (tests make expired and event-scoped ones with it).
    public func mint(for tenant: UUID, scope: String, expires: Int64) -> TenantTicket {
        let body = "t1.\(id).\(tenant.uuidString.lowercased()).\(expires).\(scope)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: secret))
        return TenantTicket(body + "." + mac.map { String(format: "%02x", $0) }.joined())!
    }
}

/// Why `CONTEXO_TENANT_TICKET_KEYS` cannot be used.
public enum TenantTicketKeyError: Error, Equatable, CustomStringConvertible {
    case malformed, invalidID(String), tooShort(String), duplicateID(String)

    public var description: String {
        switch self {
        case .malformed: "CONTEXO_TENANT_TICKET_KEYS must be key-id:base64url-secret[,key-id:base64url-secret…]"
        case .invalidID(let id): "tenant ticket key id \(id.prefix(40)) must be 1 to 32 of a-z, 0-9, _ and -"
        case .tooShort(let id): "tenant ticket key \(id) must be 32 to 64 bytes"
        case .duplicateID(let id): "tenant ticket key id \(id) is listed twice"
        }
    }
}
