import Foundation

/// Which external AI provider a service uses, and how to reach it: read from
/// `<PREFIX>_PROVIDER`, `<PREFIX>_API_URL`, `<PREFIX>_API_KEY` and `<PREFIX>_MODEL`. The provider
/// kinds are the service's own enum; every service offers `local` (offline), `gemini` (needs a
/// key) and `openai` (any OpenAI-compatible server: needs its URL and a model).
public struct ProviderSettings<Kind: RawRepresentable & CaseIterable & Sendable>: Sendable where Kind.RawValue == String {
    public var provider: Kind
    public var apiURL: String?
    public var apiKey: String
    public var model: String?
    public var timeout: Duration

    public init(provider: Kind, apiURL: String? = nil, apiKey: String = "", model: String? = nil,
                timeout: Duration = .seconds(60)) {
        self.provider = provider
        self.apiURL = apiURL
        self.apiKey = apiKey
        self.model = model
        self.timeout = timeout
    }

    public static func read(from reader: inout ConfigurationReader, prefix: String, default defaultKind: Kind,
                            timeout: Duration = .seconds(60)) -> ProviderSettings {
        var settings = ProviderSettings(provider: reader.choice("\(prefix)_PROVIDER", default: defaultKind), timeout: timeout)
        settings.apiURL = reader.parsed("\(prefix)_API_URL", required: false, expected: "an http(s):// base URL") { raw in
            guard let url = URL(string: raw), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return nil }
            return raw
        }
        settings.apiKey = reader.value("\(prefix)_API_KEY") ?? ""
        settings.model = reader.value("\(prefix)_MODEL")
        switch settings.provider.rawValue {
        case "gemini":
            if settings.apiKey.isEmpty { reader.report("\(prefix)_API_KEY", "is required for the gemini provider") }
        case "openai":
            if settings.apiURL == nil { reader.report("\(prefix)_API_URL", "is required for the openai provider") }
            if settings.model == nil { reader.report("\(prefix)_MODEL", "is required for the openai provider") }
        default:
            break
        }
        return settings
    }
}
