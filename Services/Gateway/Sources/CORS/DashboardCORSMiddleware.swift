import HTTPTypes
import Hummingbird
import Platform

/// CORS for the dashboard surface (`/v1/…`, S5.1/S7.2): only the configured dashboard origins, exact
/// match. It runs in two places:
/// - ``Role/enforce``, in the `/v1` group after the per-IP rate limit (so refused origins still
///   count against it): a preflight from any other origin is a 403 with no
///   `Access-Control-Allow-Origin`, an actual request carrying a foreign `Origin` is refused
///   server-side too (not left to the browser), and an allowed preflight is answered.
/// - ``Role/decorate``, around everything: responses to an allowed origin carry its CORS headers,
///   refusals included (a 429 from the rate limit, a 401), so the dashboard can read why a call failed.
/// Requests without `Origin` (not from a browser) pass; they still need a valid token. So do
/// same-origin requests from the dashboard the gateway serves itself (`/app/`): their `Origin`
/// names the host they were sent to (browsers send `Origin` on same-origin POSTs too), which a page
/// on another site cannot forge.
struct DashboardCORSMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    enum Role { case enforce, decorate }

    let allowedOrigins: Set<String>
    let role: Role
    let pathPrefix = "/v1/"

    static let allowedMethods = "GET, POST, PUT, PATCH, DELETE"
    static let allowedHeaders = "Authorization, Content-Type, X-Request-Id"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix(pathPrefix) || request.uri.path == "/v1",
              let origin = request.headers[.origin] else {
            return try await next(request, context)
        }
        switch role {
        case .enforce:
            guard allowedOrigins.contains(origin) || Self.isSameOrigin(origin, request: request) else {
                throw Problem(status: .forbidden, slug: "origin-not-allowed", title: "Origin Not Allowed",
                              detail: "The dashboard API does not accept requests from this origin.")
            }
            if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
                return CORSHeaders.preflight(origin: origin, methods: Self.allowedMethods, headers: Self.allowedHeaders)
            }
            return try await next(request, context)
        case .decorate:
            guard allowedOrigins.contains(origin) else { return try await next(request, context) }
            var response: Response
            do {
                response = try await next(request, context)
            } catch {
                response = ProblemMiddleware.problem(for: error, context: context).response(requestID: context.requestID)
            }
            CORSHeaders.allow(&response, origin: origin)
            return response
        }
    }

    /// Whether `origin` is the gateway itself: its authority equals the request's `Host`. The scheme
    /// is not compared: behind a TLS-terminating proxy the gateway cannot know it, and one host and
    /// port serve one server either way.
    static func isSameOrigin(_ origin: String, request: Request) -> Bool {
        guard let host = request.head.authority,
              let separator = origin.range(of: "://") else { return false }
        let scheme = origin[..<separator.lowerBound].lowercased()
        var authority = origin[separator.upperBound...].lowercased()
        // Browsers leave the default port out of Origin; Host may carry it.
        for (name, port) in [("http", ":80"), ("https", ":443")] where scheme == name && !authority.contains(":") {
            if host.lowercased() == authority + port { return true }
        }
        if authority.hasSuffix("/") { authority.removeLast() }
        return ["http", "https"].contains(scheme) && authority == host.lowercased()
    }
}
