import Foundation
import Hummingbird
import Prometheus

/// Request counts and latency histograms per route, method and status, kept in one Prometheus
/// registry per application (so two apps in one test process never mix their numbers).
public final class HTTPMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    public init(registry: PrometheusCollectorRegistry = .init(), build: BuildInfo) {
        self.registry = registry
        let buildInfo = registry.makeGauge(
            descriptor: .init(namespace: "contexo", metricName: "build", unitName: "info",
                              helpText: "The running version and git commit."),
            labels: [("service", build.service), ("version", build.version), ("commit", build.commit)])
        buildInfo.set(to: 1.0)
    }

    func record(route: String, method: String, status: Int, duration: Duration) {
        let labels = [("route", route), ("method", method), ("status", String(status))]
        registry.makeCounter(
            descriptor: .init(namespace: "contexo", metricName: "http_requests", unitName: "total",
                              helpText: "HTTP requests served, by route, method and status."),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "contexo", metricName: "http_request_duration", unitName: "seconds",
                              helpText: "Time to produce the response head, by route, method and status."),
            labels: labels, buckets: Self.buckets
        ).record(duration)
    }

    /// The registry in Prometheus' text exposition format.
    public func exposition() -> String { registry.emitToString() }
}

/// Records every request in ``HTTPMetrics``. Unmatched paths share one route label so scanners
/// cannot blow up the label cardinality.
public struct HTTPMetricsMiddleware: RouterMiddleware {
    public typealias Context = ContexoRequestContext
    let metrics: HTTPMetrics

    public init(metrics: HTTPMetrics) { self.metrics = metrics }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        // Hummingbird names unrouted requests "NotFound"; one label for every unmatched path.
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        metrics.record(
            route: route, method: request.method.rawValue,
            status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }
}
