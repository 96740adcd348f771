import Contract
import HTTPTypes
import Hummingbird

/// The CORS headers both surfaces (dashboard and widget) answer with, for one allowed origin. The
/// origin is answered in its canonical form (lowercase, no default port), as browsers send it;
/// an opaque origin (`null`) is never answered.
enum CORSHeaders {
    static func canonical(_ origin: String) -> String? {
        if let parsed = AllowedOrigin(origin) { return parsed.wildcard ? nil : parsed.description }
        // A configured dashboard origin AllowedOrigin does not take (plain http off localhost).
        return origin.lowercased() == "null" ? nil : origin
    }

    static let exposed = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy"

    /// The 204 answer to an allowed preflight.
    static func preflight(origin: String, methods: String, headers: String) -> Response {
        var fields = HTTPFields()
        if let origin = canonical(origin) { fields[.accessControlAllowOrigin] = origin }
        fields[.accessControlAllowMethods] = methods
        fields[.accessControlAllowHeaders] = headers
        fields[.accessControlMaxAge] = "600"
        fields[.vary] = "Origin"
        return Response(status: .noContent, headers: fields)
    }

    /// Marks an actual response (errors included) as readable by `origin`.
    static func allow(_ response: inout Response, origin: String) {
        guard let origin = canonical(origin) else { return }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = exposed
        response.headers[.vary] = "Origin"
    }
}
