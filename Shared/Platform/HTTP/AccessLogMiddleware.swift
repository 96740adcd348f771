import Hummingbird
import Logging

/// One structured log line per request (method, route, status, duration), carrying the request id
/// from the context's logger. Probes and scrapes (`/healthz`, `/readyz`, `/metrics`) log at debug so
/// they do not drown the rest.
public struct AccessLogMiddleware: RouterMiddleware {
    public typealias Context = ContexoRequestContext
    private static let quietPaths: Set<String> = ["/healthz", "/readyz", "/metrics"]

    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let level: Logger.Level = Self.quietPaths.contains(request.uri.path) ? .debug : .info
        context.logger.log(level: level, "request", metadata: [
            "method": .string(request.method.rawValue),
            "path": .string(request.uri.path),
            "route": .string(context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible((Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000).rounded()),
        ])
        return response
    }
}
