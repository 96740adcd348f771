import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// The customer dashboard (`/app/`): the static files under `Services/Gateway/Public/app`, read
/// once at start-up and served with an `ETag` and a Content-Security-Policy of their own, stricter
/// than Helmet's default: scripts and styles only from this origin (no inline code, no `eval`),
/// network calls only to this origin and the sign-in provider, no framing.
struct DashboardFiles {
    struct File {
        let body: ByteBuffer
        let contentType: String
        let etag: String
    }

    let files: [String: File]
    let policy: String

    /// - Parameter directory: the folder holding `index.html` and its modules.
    init(directory: String, signIn: GatewayConfiguration.SignIn?, environment: DeploymentEnvironment) throws {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw PublicFileRoute.Missing(description: "\(directory) is missing (set CONTEXO_DASHBOARD_DIR)")
        }
        var files: [String: File] = [:]
        for case let url as URL in enumerator {
            let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
                         "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon"]
            guard let type = types[url.pathExtension], let data = FileManager.default.contents(atPath: url.path) else { continue }
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in data { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            files[relative] = File(body: ByteBuffer(data: data), contentType: type, etag: "\"\(String(hash, radix: 16))\"")
        }
        guard files["index.html"] != nil else {
            throw PublicFileRoute.Missing(description: "\(directory)/index.html is missing (set CONTEXO_DASHBOARD_DIR)")
        }
        self.files = files
        policy = Self.policy(signIn: signIn, environment: environment)
    }

    static func policy(signIn: GatewayConfiguration.SignIn?, environment: DeploymentEnvironment) -> String {
        var connect = "'self'"
        if let url = signIn?.authURL, let scheme = url.scheme, let host = url.host {
            connect += " \(scheme)://\(host)\(url.port.map { ":\($0)" } ?? "")"
        }
        var directives = [
            "default-src 'self'", "base-uri 'none'", "connect-src \(connect)", "font-src 'self'", "form-action 'self'",
            "frame-ancestors 'none'", "img-src 'self' data: blob:", "object-src 'none'", "script-src 'self'",
            "script-src-attr 'none'", "style-src 'self'",
        ]
        // Development runs on plain http://127.0.0.1, where upgrading would break every call.
        if environment == .production { directives.append("upgrade-insecure-requests") }
        return directives.joined(separator: ";")
    }

    func register(on router: Router<ContexoRequestContext>) {
        for (path, file) in files {
            // The router treats `/app` and `/app/` alike; the page links everything absolutely.
            let served = path == "index.html" ? ["/app", "/app/index.html"] : ["/app/\(path)"]
            let policy = self.policy
            for route in served {
                router.get(RouterPath(route)) { request, _ -> Response in
                    var headers: HTTPFields = [.contentType: file.contentType, .cacheControl: "no-cache", .eTag: file.etag]
                    headers[SecurityHeadersMiddleware.policyHeader] = policy
                    if request.headers[.ifNoneMatch] == file.etag {
                        headers[.contentType] = nil
                        return Response(status: .notModified, headers: headers)
                    }
                    return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: file.body))
                }
            }
        }
    }
}
