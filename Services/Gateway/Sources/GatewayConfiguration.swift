import Foundation
import Platform

/// The gateway's configuration: the shared service settings plus where its upstreams live.
public struct GatewayConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8080
    public var service: ServiceConfiguration
    public var upstreams: Upstreams

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

    public init(service: ServiceConfiguration, upstreams: Upstreams) {
        self.service = service
        self.upstreams = upstreams
    }

    public static func read(from reader: inout ConfigurationReader) -> GatewayConfiguration {
        let service = ServiceConfiguration.read(from: &reader, defaultPort: defaultPort)
        func upstream(_ name: String) -> URL {
            reader.parsed(name, expected: "an http:// or https:// base URL") { raw in
                URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
            } ?? URL(string: "http://invalid")!
        }
        let upstreams = Upstreams(
            chat: upstream("CONTEXO_CHAT_URL"),
            ingest: upstream("CONTEXO_INGEST_URL"),
            billing: upstream("CONTEXO_BILLING_URL"))
        return GatewayConfiguration(service: service, upstreams: upstreams)
    }
}
