import Prometheus

/// Counters and gauges of the event runtime, in the service's Prometheus registry.
public struct EventMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func published(stream: String, count: Int) {
        counter("events_published", "Events published from the outbox to Redis.", [("stream", stream)]).increment(by: Int64(count))
    }

    func consumed(stream: String, group: String, type: String, outcome: String) {
        counter("events_consumed", "Events handled by a consumer group (outcome: applied, duplicate, ignored).",
                [("stream", stream), ("group", group), ("type", type), ("outcome", outcome)]).increment()
    }

    func retried(stream: String, group: String) {
        counter("events_retried", "Deliveries that failed and will be retried.", [("stream", stream), ("group", group)]).increment()
    }

    func deadLettered(stream: String, group: String) {
        counter("events_dead_lettered", "Entries moved to the dead-letter stream.", [("stream", stream), ("group", group)]).increment()
    }

    func rejected(stream: String, group: String, reason: String) {
        counter("events_rejected", "Entries refused because they are not an event their owner signed (reason: unsigned, "
                + "unknown_key, bad_signature, malformed, no_owner, wrong_signer, no_envelope, tenant_ticket); each is dead-lettered.",
                [("stream", stream), ("group", group), ("reason", reason)]).increment()
    }

    func outboxBacklog(schema: String, count: Int) {
        registry.makeGauge(
            descriptor: .init(namespace: "contexo", metricName: "outbox_backlog", unitName: "events",
                              helpText: "Outbox rows not yet published."),
            labels: [("schema", schema)]
        ).set(to: Double(count))
    }

    func consumerLag(stream: String, group: String, lag: Int, pending: Int) {
        registry.makeGauge(
            descriptor: .init(namespace: "contexo", metricName: "consumer_lag", unitName: "entries",
                              helpText: "Stream entries not yet delivered to the group."),
            labels: [("stream", stream), ("group", group)]
        ).set(to: Double(lag))
        registry.makeGauge(
            descriptor: .init(namespace: "contexo", metricName: "consumer_pending", unitName: "entries",
                              helpText: "Entries delivered but not yet acknowledged."),
            labels: [("stream", stream), ("group", group)]
        ).set(to: Double(pending))
    }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        registry.makeCounter(
            descriptor: .init(namespace: "contexo", metricName: name, unitName: "total", helpText: help), labels: labels)
    }
}
