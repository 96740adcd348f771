import Foundation
import Hummingbird

/// What a customer's plan currently allows. A customer with no subscription has the free plan.
public struct Entitlement: ResponseCodable, Equatable, Sendable {
    public var plan: String
    public var status: String
    public var creditBalance: Int64
    public var updatedAt: Date?

    public static let free = Entitlement(plan: "free", status: "active", creditBalance: 0, updatedAt: nil)

    enum CodingKeys: String, CodingKey {
        case plan, status
        case creditBalance = "credit_balance"
        case updatedAt = "updated_at"
    }
}
