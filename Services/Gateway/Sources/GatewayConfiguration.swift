import Foundation
import Platform

/// The gateway's configuration: the shared service settings plus where its upstreams live.
public struct GatewayConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8080
    public var service: ServiceConfiguration
    public var upstreams: Upstreams
    public var customerTokens: CustomerTokens
    /// The largest request body a JSON route accepts.
    public var maximumJSONBodyBytes: Int
    /// The visitor widget's script, served at `GET /widget.js`.
    public var widgetScriptFile = "Services/Gateway/Public/widget.js"
    /// The customer dashboard's static files, served under `/app/`.
    public var dashboardDirectory = "Services/Gateway/Public/app"
    /// The OpenAPI 3.1 document of the public API, served at `GET /openapi.json`.
    public var openAPIFile = GatewayConfiguration.defaultOpenAPIFile
    /// Where the document lives in the repository (and the image), relative to the working directory.
    public static let defaultOpenAPIFile = "Services/Gateway/Public/openapi.json"
    /// The body limit of document uploads (`/v1/documents`), which are files, not JSON.
    public var maximumUploadBytes: Int = GatewayConfiguration.defaultMaximumUploadBytes
    /// Ingest's default 20 MiB document limit plus room for multipart framing (Ingest reads a form
    /// up to the document limit + 64 KiB), so a file Ingest accepts is never refused here first.
    public static let defaultMaximumUploadBytes = (20 << 20) + (64 << 10)
    /// Origins the dashboard runs on (exact `scheme://host[:port]`); no others get CORS.
    public var dashboardOrigins: Set<String> = []
    /// Requests per minute per client IP on the public API.
    public var rateLimitPerIP = RateLimit(limit: 300, period: .seconds(60))
    /// Visitor requests per client IP on the widget surface.
    public var widgetRateLimitPerIP = RateLimit(limit: 60, period: .seconds(60))
    /// Visitor requests per widget, all visitors together.
    public var widgetRateLimitPerWidget = RateLimit(limit: 600, period: .seconds(60))
    /// How many proxies in front of the gateway append to `X-Forwarded-For`.
    public var trustedProxies = 0
    /// The key the gateway signs tenant tickets with: the first of `CONTEXO_TENANT_TICKET_KEYS`,
    /// which the migrator gives Postgres too (services never hold it). Without one, forwarded
    /// requests carry no ticket and the services can enter no tenant.
    public var tenantTicketKey: TenantTicketKey?

    /// How customers' access tokens are verified: a shared HS256 secret and/or a JWKS URL.
    public struct CustomerTokens: Sendable, Equatable {
        public var hmacSecret: String?
        public var jwksURL: URL?
        public var audience: String
        public var issuer: String?

        public init(hmacSecret: String? = nil, jwksURL: URL? = nil, audience: String = "authenticated", issuer: String? = nil) {
            self.hmacSecret = hmacSecret
            self.jwksURL = jwksURL
            self.audience = audience
            self.issuer = issuer
        }
    }

    /// The base URLs of the services the gateway forwards to.
    public struct Upstreams: Sendable, Equatable {
        public var chat: URL
        public var ingest: URL
        public var billing: URL

        public init(chat: URL, ingest: URL, billing: URL) {
            self.chat = chat
            self.ingest = ingest
            self.billing = billing
        }
    }

    /// The sign-in provider the dashboard talks to (served at `GET /app/config.json`); nil: none.
    public var signIn: SignIn?

    /// Supabase Auth's base URL and the project's public (anon / publishable) key. Never the secret
    /// key: that one only Billing holds.
    public struct SignIn: Sendable, Equatable {
        public var authURL: URL
        public var publicKey: String

        public init(authURL: URL, publicKey: String) {
            self.authURL = authURL
            self.publicKey = publicKey
        }
    }

    /// PEM files for serving HTTPS directly (TLS 1.2 minimum, S2.1). Nil: plain HTTP behind a
    /// TLS-terminating proxy or load balancer.
    public var tls: TLSFiles?
    /// How long the gateway's own lookups (plan context in Billing, widget allow-lists in Chat) may take.
    public var internalLookupTimeout: Duration = .seconds(2)

    /// Where the gateway's certificate chain and private key are.
    public struct TLSFiles: Sendable, Equatable {
        public var certificateChain: String
        public var privateKey: String

        public init(certificateChain: String, privateKey: String) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
        }
    }

    public init(service: ServiceConfiguration, upstreams: Upstreams, customerTokens: CustomerTokens,
                maximumJSONBodyBytes: Int = 1 << 20) {
        self.service = service
        self.upstreams = upstreams
        self.customerTokens = customerTokens
        self.maximumJSONBodyBytes = maximumJSONBodyBytes
    }

    /// `scheme://host[:port]` with nothing after it.
    static func isOrigin(_ text: String) -> Bool {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return false }
        return url.path.isEmpty && url.query == nil && url.fragment == nil && url.user == nil
    }

    public static func read(from reader: inout ConfigurationReader) -> GatewayConfiguration {
        let service = ServiceConfiguration.read(from: &reader, service: .gateway, defaultPort: defaultPort)
        func upstream(_ name: String) -> URL {
            reader.parsed(name, expected: "an http:// or https:// base URL") { raw in
                URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
            } ?? URL(string: "http://invalid")!
        }
        let upstreams = Upstreams(
            chat: upstream("CONTEXO_CHAT_URL"),
            ingest: upstream("CONTEXO_INGEST_URL"),
            billing: upstream("CONTEXO_BILLING_URL"))
        var tokens = CustomerTokens(
            hmacSecret: reader.value("CONTEXO_JWT_SECRET"),
            jwksURL: reader.parsed("CONTEXO_JWKS_URL", required: false, expected: "an https:// (or http:// for local) URL") { raw in
                URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
            },
            audience: reader.string("CONTEXO_JWT_AUDIENCE", default: "authenticated"),
            issuer: reader.value("CONTEXO_JWT_ISSUER"))
        if let secret = tokens.hmacSecret, secret.utf8.count < 32 {
            reader.report("CONTEXO_JWT_SECRET", "must be at least 32 bytes long")
            tokens.hmacSecret = nil
        }
        reader.requireTLS("CONTEXO_JWKS_URL", tokens.jwksURL, in: service.environment)
        if tokens.issuer == nil && service.environment == .production {
            // Without it, a token another project signed with a shared or leaked key would pass.
            reader.report("CONTEXO_JWT_ISSUER", "is required in production (Supabase: https://<project>.supabase.co/auth/v1)")
        }
        if tokens.hmacSecret == nil && tokens.jwksURL == nil && !reader.problems.contains(where: { $0.variable == "CONTEXO_JWT_SECRET" }) {
            reader.report("CONTEXO_JWT_SECRET", "or CONTEXO_JWKS_URL is required (how customer tokens are verified)")
        }
        let bodyLimit = reader.integer("CONTEXO_MAX_JSON_BODY_BYTES", default: 1 << 20, in: 1024...(64 << 20))
        var configuration = GatewayConfiguration(
            service: service, upstreams: upstreams, customerTokens: tokens, maximumJSONBodyBytes: bodyLimit)
        configuration.widgetScriptFile = reader.string("CONTEXO_WIDGET_SCRIPT_FILE", default: configuration.widgetScriptFile)
        configuration.openAPIFile = reader.string("CONTEXO_OPENAPI_FILE", default: configuration.openAPIFile)
        configuration.dashboardDirectory = reader.string("CONTEXO_DASHBOARD_DIR", default: configuration.dashboardDirectory)
        configuration.maximumUploadBytes = reader.integer("CONTEXO_MAX_UPLOAD_BYTES", default: Self.defaultMaximumUploadBytes, in: 1024...(512 << 20))
        configuration.dashboardOrigins = reader.parsed(
            "CONTEXO_DASHBOARD_ORIGINS", required: false, expected: "a comma-separated list of origins like https://app.example.com"
        ) { raw in
            let origins = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return origins.allSatisfy(Self.isOrigin) ? Set(origins) : nil
        } ?? []
        for origin in configuration.dashboardOrigins.sorted() {
            reader.requireTLS("CONTEXO_DASHBOARD_ORIGINS", URL(string: origin), in: service.environment)
        }
        configuration.rateLimitPerIP = RateLimit(
            limit: reader.integer("CONTEXO_RATE_LIMIT_IP_PER_MINUTE", default: 300, in: 1...1_000_000), period: .seconds(60))
        configuration.widgetRateLimitPerIP = RateLimit(
            limit: reader.integer("CONTEXO_WIDGET_RATE_LIMIT_IP_PER_MINUTE", default: 60, in: 1...1_000_000), period: .seconds(60))
        configuration.widgetRateLimitPerWidget = RateLimit(
            limit: reader.integer("CONTEXO_WIDGET_RATE_LIMIT_PER_MINUTE", default: 600, in: 1...10_000_000), period: .seconds(60))
        let certificate = reader.value("CONTEXO_TLS_CERTIFICATE_FILE"), key = reader.value("CONTEXO_TLS_KEY_FILE")
        switch (certificate, key) {
        case let (certificate?, key?):
            for (name, path) in [("CONTEXO_TLS_CERTIFICATE_FILE", certificate), ("CONTEXO_TLS_KEY_FILE", key)]
            where !FileManager.default.isReadableFile(atPath: path) {
                reader.report(name, "must name a readable PEM file (\(path))")
            }
            configuration.tls = TLSFiles(certificateChain: certificate, privateKey: key)
        case (nil, nil):
            break
        default:
            reader.report("CONTEXO_TLS_CERTIFICATE_FILE", "and CONTEXO_TLS_KEY_FILE must be set together")
        }
        configuration.trustedProxies = reader.integer("CONTEXO_TRUSTED_PROXIES", default: 0, in: 0...5)
        if let text = reader.value("CONTEXO_TENANT_TICKET_KEYS") {
            do { configuration.tenantTicketKey = try TenantTicketKey.list(text).first } catch {
                reader.report("CONTEXO_TENANT_TICKET_KEYS", "\(error)")
            }
        } else {
            reader.report("CONTEXO_TENANT_TICKET_KEYS", "is required: the key tenant tickets are signed with (the migrator's too)")
        }
        configuration.signIn = readSignIn(from: &reader, environment: service.environment)
        return configuration
    }

    static func readSignIn(from reader: inout ConfigurationReader, environment: DeploymentEnvironment) -> SignIn? {
        let url = reader.parsed("CONTEXO_SUPABASE_AUTH_URL", required: false,
                                expected: "Supabase Auth's base URL, https://<ref>.supabase.co/auth/v1") { raw in
            URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
        }
        reader.requireTLS("CONTEXO_SUPABASE_AUTH_URL", url, in: environment)
        let key = reader.parsed("CONTEXO_SUPABASE_ANON_KEY", required: false,
                                expected: "the project's public anon or publishable key (never the secret key)") { raw in
            isPublicKey(raw) ? raw : nil
        }
        switch (url, key) {
        case let (url?, key?): return SignIn(authURL: url, publicKey: key)
        case (nil, nil): return nil
        default:
            reader.report("CONTEXO_SUPABASE_ANON_KEY", "and CONTEXO_SUPABASE_AUTH_URL must be set together (the dashboard's sign-in)")
            return nil
        }
    }

    /// Whether `key` can be a public key: not a `sb_secret_…` key and not a JWT whose role is
    /// `service_role` (the legacy secret key), which would hand every visitor admin rights.
    static func isPublicKey(_ key: String) -> Bool {
        guard !key.isEmpty, !key.hasPrefix("sb_secret_") else { return false }
        let parts = key.split(separator: ".")
        if parts.count == 3, let payload = Data(base64URL: String(parts[1])),
           let claims = try? JSONSerialization.jsonObject(with: payload) as? [String: Any] {
            return (claims["role"] as? String)?.lowercased() != "service_role"
        }
        return true
    }
}
