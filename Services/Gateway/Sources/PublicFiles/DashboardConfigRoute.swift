import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// `GET /app/config.json`: what the dashboard needs before anyone signs in — where to sign in
/// (Supabase Auth's URL and the project's public key), where the API is, and whether this is a
/// development stack (whose sign-in page then says that any e-mail and password creates an account).
/// Public by design: nothing in it is a secret, so any origin may read it (a dashboard hosted on
/// another origin starts here).
struct DashboardConfigRoute {
    let body: ByteBuffer

    init(signIn: GatewayConfiguration.SignIn?, environment: DeploymentEnvironment) throws {
        var document: [String: Any] = [
            "api_base": "/v1",
            "environment": environment == .production ? "production" : "development",
        ]
        if let signIn {
            document["auth"] = ["url": signIn.authURL.absoluteString, "public_key": signIn.publicKey]
        } else {
            document["auth"] = NSNull()
        }
        body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    func register(on router: Router<ContexoRequestContext>) {
        router.get("/app/config.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            // Public by design, and read by the dashboard wherever it is hosted.
            headers[.accessControlAllowOrigin] = "*"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
    }
}
