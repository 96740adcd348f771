import Contract
import Foundation

/// What can be bought: the free plan's limits, paid plans (each sold as one or more Lemon Squeezy
/// variants, e.g. monthly and yearly) and add-on credit packs. Configuration, not code: it is read
/// from a JSON file (`CONTEXO_PLAN_CATALOG_FILE`, default `config/plans.json`) at start-up and
/// validated there, so a typo stops the service instead of selling the wrong plan.
public struct PlanCatalog: Sendable, Codable, Equatable {
    /// A paid plan.
    public struct Plan: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var variantIDs: [Int64]
        public var limits: PlanLimits

        enum CodingKeys: String, CodingKey {
            case id, name, limits
            case variantIDs = "variant_ids"
        }
    }

    /// A one-time purchase of extra monthly messages.
    public struct CreditPack: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var variantID: Int64
        public var credits: Int64

        enum CodingKeys: String, CodingKey {
            case id, name, credits
            case variantID = "variant_id"
        }
    }

    /// What a variant id sells.
    public enum Product: Sendable, Equatable {
        case plan(Plan)
        case creditPack(CreditPack)
    }

    public var free: PlanLimits
    public var plans: [Plan]
    public var creditPacks: [CreditPack]

    enum CodingKeys: String, CodingKey {
        case free, plans
        case creditPacks = "credit_packs"
    }

    public init(free: PlanLimits, plans: [Plan], creditPacks: [CreditPack]) throws(CatalogError) {
        self.free = free
        self.plans = plans
        self.creditPacks = creditPacks
        try validate()
    }

    /// Reads and validates a catalog file.
    public static func load(from path: String) throws -> PlanCatalog {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let catalog = try JSONDecoder().decode(PlanCatalog.self, from: data)
        try catalog.validate()
        return catalog
    }

    public func product(variant: Int64) -> Product? {
        if let plan = plans.first(where: { $0.variantIDs.contains(variant) }) { return .plan(plan) }
        if let pack = creditPacks.first(where: { $0.variantID == variant }) { return .creditPack(pack) }
        return nil
    }

    public func plan(id: String) -> Plan? { plans.first { $0.id == id } }

    /// The limits of a plan id; the free plan's for "free" or an id no longer in the catalog.
    public func limits(plan id: String) -> PlanLimits { plan(id: id)?.limits ?? free }

    func validate() throws(CatalogError) {
        var variants = Set<Int64>()
        var ids: Set<String> = ["free"]
        for plan in plans {
            guard ids.insert(plan.id).inserted else { throw .init("plan id \"\(plan.id)\" is used twice") }
            guard !plan.variantIDs.isEmpty else { throw .init("plan \"\(plan.id)\" has no variant_ids") }
            for variant in plan.variantIDs where !variants.insert(variant).inserted {
                throw .init("variant \(variant) is sold twice")
            }
            guard Self.sane(plan.limits) else { throw .init("plan \"\(plan.id)\" has a negative limit") }
        }
        for pack in creditPacks {
            guard ids.insert(pack.id).inserted else { throw .init("id \"\(pack.id)\" is used twice") }
            guard variants.insert(pack.variantID).inserted else { throw .init("variant \(pack.variantID) is sold twice") }
            guard pack.credits > 0 else { throw .init("credit pack \"\(pack.id)\" grants no credits") }
        }
        guard Self.sane(free) else { throw .init("the free plan has a negative limit") }
    }

    private static func sane(_ limits: PlanLimits) -> Bool {
        limits.widgets >= 0 && limits.messagesPerMonth >= 0 && limits.knowledgeBytes >= 0
    }
}

/// Why a plan catalog was refused.
public struct CatalogError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = "plan catalog: " + description }
}
