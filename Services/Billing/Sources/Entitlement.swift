import Contract
import Foundation
import Hummingbird

/// What a customer's plan currently allows, as the customer (and the gateway) sees it. A customer
/// with no subscription has the free plan.
public struct Entitlement: ResponseCodable, Equatable, Sendable {
    public var plan: String
    public var status: String
    public var limits: PlanLimits
    public var periodEnd: Date?
    public var credits: Credits
    /// Lemon Squeezy's customer portal for the current subscription, when known.
    public var portalURL: String?
    /// Increases with every change; events carry it so consumers ignore stale ones.
    public var revision: Int64
    public var updatedAt: Date?

    /// Add-on message credits bought and taken back (refunds). Chat meters what is used.
    public struct Credits: Codable, Equatable, Sendable {
        public var granted: Int64
        public var revoked: Int64
        public var balance: Int64 { granted - revoked }

        enum CodingKeys: String, CodingKey { case granted, revoked, balance }

        public init(granted: Int64, revoked: Int64) {
            self.granted = granted
            self.revoked = revoked
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            granted = try container.decode(Int64.self, forKey: .granted)
            revoked = try container.decode(Int64.self, forKey: .revoked)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(granted, forKey: .granted)
            try container.encode(revoked, forKey: .revoked)
            try container.encode(balance, forKey: .balance)
        }
    }

    public static func free(_ limits: PlanLimits) -> Entitlement {
        Entitlement(plan: "free", status: "active", limits: limits, periodEnd: nil,
                    credits: .init(granted: 0, revoked: 0), portalURL: nil, revision: 0, updatedAt: nil)
    }

    /// The same entitlement, ignoring bookkeeping (revision, timestamps): did anything change?
    func sameTerms(as other: Entitlement) -> Bool {
        plan == other.plan && status == other.status && limits == other.limits && periodEnd == other.periodEnd
            && credits == other.credits && portalURL == other.portalURL
    }

    enum CodingKeys: String, CodingKey {
        case plan, status, limits, credits, revision
        case periodEnd = "period_end"
        case portalURL = "portal_url"
        case updatedAt = "updated_at"
    }
}
