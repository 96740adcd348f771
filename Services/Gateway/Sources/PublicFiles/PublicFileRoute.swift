import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// A file the gateway serves itself, read once at start-up, with an `ETag` and a short cache:
/// `GET /widget.js` (the visitor widget) and `GET /openapi.json` (the API's description).
/// `nosniff` needs each one's exact content type.
struct PublicFileRoute {
    let path: String
    let contentType: String
    /// Other sites load the widget with a `<script>` tag, so it is the one response marked
    /// `Cross-Origin-Resource-Policy: cross-origin`.
    let crossOrigin: Bool
    let body: ByteBuffer
    let etag: String

    /// Why the gateway cannot start without one of its files.
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// - Parameter setting: the variable that names the file, for the start-up error.
    init(path: String, file: String, setting: String, contentType: String, crossOrigin: Bool = false) throws {
        guard let data = FileManager.default.contents(atPath: file), !data.isEmpty else {
            throw Missing(description: "\(file) is missing (set \(setting))")
        }
        self.path = path
        self.contentType = contentType
        self.crossOrigin = crossOrigin
        body = ByteBuffer(data: data)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        etag = "\"\(String(hash, radix: 16))\""
    }

    /// The visitor widget.
    static func widgetScript(file: String) throws -> PublicFileRoute {
        try PublicFileRoute(path: "/widget.js", file: file, setting: "CONTEXO_WIDGET_SCRIPT_FILE",
                            contentType: "text/javascript; charset=utf-8", crossOrigin: true)
    }

    /// The OpenAPI 3.1 document of every public route.
    static func openAPI(file: String) throws -> PublicFileRoute {
        try PublicFileRoute(path: "/openapi.json", file: file, setting: "CONTEXO_OPENAPI_FILE",
                            contentType: "application/json")
    }

    func register(on router: Router<ContexoRequestContext>) {
        let body = self.body, etag = self.etag, contentType = self.contentType, crossOrigin = self.crossOrigin
        router.get(RouterPath(path)) { request, _ -> Response in
            var headers: HTTPFields = [.contentType: contentType, .cacheControl: "public, max-age=300", .eTag: etag]
            if crossOrigin { headers[SecurityHeadersMiddleware.resourcePolicy] = "cross-origin" }
            if request.headers[.ifNoneMatch] == etag {
                headers[.contentType] = nil
                return Response(status: .notModified, headers: headers)
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
        }
    }
}
