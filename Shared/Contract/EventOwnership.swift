/// Which service may publish which events: a consumer applies an event only when it is signed by
/// the key of the service that owns its type (S1.2). Ownership goes by the type's family, the part
/// before its first dot (`billing.entitlements.changed` → `billing`); `account.*` is Billing's,
/// which publishes `account.deleted` after cancelling the subscription.
public struct EventOwnership: Sendable, Equatable {
    public private(set) var families: [String: ServiceName]

    public init(families: [String: ServiceName]) { self.families = families }

    /// The contract's owners.
    public static let contexo = EventOwnership(families: [
        "billing": .billing,
        "account": .billing,
        "chat": .chat,
        "ingest": .ingest,
    ])

    /// The owner of `type`, or nil when no service owns its family (such an event is never applied).
    public func owner(of type: String) -> ServiceName? {
        guard let dot = type.firstIndex(of: ".") else { return nil }
        return families[String(type[..<dot])]
    }

    /// The same owners plus `family` owned by `service` (tests' probe events).
    public func adding(family: String, owner service: ServiceName) -> EventOwnership {
        var copy = self
        copy.families[family] = service
        return copy
    }
}
