/// The four Contexo services. Used as the audience of internal tokens, in logs and in metrics.
public enum ServiceName: String, Sendable, Codable, CaseIterable {
    case gateway
    case chat
    case ingest
    case billing
}
