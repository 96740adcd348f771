import HTTPTypes
import Hummingbird

/// The CORS headers both surfaces (dashboard and widget) answer with, for one allowed origin.
enum CORSHeaders {
    static let exposed = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy"

    /// The 204 answer to an allowed preflight.
    static func preflight(origin: String, methods: String, headers: String) -> Response {
        var fields = HTTPFields()
        fields[.accessControlAllowOrigin] = origin
        fields[.accessControlAllowMethods] = methods
        fields[.accessControlAllowHeaders] = headers
        fields[.accessControlMaxAge] = "600"
        fields[.vary] = "Origin"
        return Response(status: .noContent, headers: fields)
    }

    /// Marks an actual response (errors included) as readable by `origin`.
    static func allow(_ response: inout Response, origin: String) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = exposed
        response.headers[.vary] = "Origin"
    }
}
