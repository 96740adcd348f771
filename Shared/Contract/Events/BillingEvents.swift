import Foundation

/// A customer's plan, status or limits changed. Chat and Ingest update their copies; the gateway
/// drops its cached plan context.
public struct EntitlementsChanged: DomainEvent {
    public static let type = "billing.entitlements.changed"
    public static let version = 1
    public static let stream = EventStream.billing

    public var plan: String
    public var status: String
    public var limits: PlanLimits
    public var periodEnd: Date?
    /// Billing's monotonically increasing revision of this customer's entitlements, so a consumer
    /// can ignore an older change delivered after a newer one.
    public var revision: Int64

    public init(plan: String, status: String, limits: PlanLimits, periodEnd: Date?, revision: Int64) {
        self.plan = plan
        self.status = status
        self.limits = limits
        self.periodEnd = periodEnd
        self.revision = revision
    }

    enum CodingKeys: String, CodingKey {
        case plan, status, limits, revision
        case periodEnd = "period_end"
    }
}

/// Add-on message credits were bought.
public struct CreditsGranted: DomainEvent {
    public static let type = "billing.credits.granted"
    public static let version = 1
    public static let stream = EventStream.billing

    public var grantID: UUID
    public var credits: Int64
    /// The Lemon Squeezy order the credits came from.
    public var orderID: String

    public init(grantID: UUID, credits: Int64, orderID: String) {
        self.grantID = grantID
        self.credits = credits
        self.orderID = orderID
    }

    enum CodingKeys: String, CodingKey {
        case credits
        case grantID = "grant_id"
        case orderID = "order_id"
    }
}

/// Credits were taken back (a refund). Consumers never go below what was already used.
public struct CreditsRevoked: DomainEvent {
    public static let type = "billing.credits.revoked"
    public static let version = 1
    public static let stream = EventStream.billing

    public var grantID: UUID
    public var credits: Int64
    public var reason: String

    public init(grantID: UUID, credits: Int64, reason: String) {
        self.grantID = grantID
        self.credits = credits
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case credits, reason
        case grantID = "grant_id"
    }
}

/// A customer's account was deleted: every service erases the tenant's data.
public struct AccountDeleted: DomainEvent {
    public static let type = "account.deleted"
    public static let version = 1
    public static let stream = EventStream.billing

    public var requestedAt: Date

    public init(requestedAt: Date) { self.requestedAt = requestedAt }

    enum CodingKeys: String, CodingKey { case requestedAt = "requested_at" }
}
