/// What the gateway learned about a customer's plan, carried to the services inside the internal
/// token (S3.2: plan and quota context attached after authentication). Services still enforce quotas
/// themselves from their own copy of the entitlements; this is context, not authority.
public struct PlanContext: Sendable, Codable, Equatable {
    public var plan: String
    public var status: String
    public var limits: PlanLimits

    public init(plan: String, status: String, limits: PlanLimits) {
        self.plan = plan
        self.status = status
        self.limits = limits
    }
}

/// A plan's quotas.
public struct PlanLimits: Sendable, Codable, Equatable {
    public var widgets: Int
    public var messagesPerMonth: Int
    public var knowledgeBytes: Int64

    public init(widgets: Int, messagesPerMonth: Int, knowledgeBytes: Int64) {
        self.widgets = widgets
        self.messagesPerMonth = messagesPerMonth
        self.knowledgeBytes = knowledgeBytes
    }

    enum CodingKeys: String, CodingKey {
        case widgets
        case messagesPerMonth = "messages_per_month"
        case knowledgeBytes = "knowledge_bytes"
    }
}
