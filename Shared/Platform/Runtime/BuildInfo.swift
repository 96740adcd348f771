import Foundation

/// What is running: the release version and the git commit it was built from (S9.2: deploys are
/// traceable). The commit comes from `CONTEXO_GIT_COMMIT`, set by `scripts/dev` and the Dockerfile.
public struct BuildInfo: Sendable, Codable, Equatable {
    public static let version = "0.1.0"

    public var service: String
    public var version: String
    public var commit: String

    public init(service: String, version: String = BuildInfo.version, commit: String) {
        self.service = service
        self.version = version
        self.commit = commit
    }

    /// Reads the commit from the environment; "unknown" when it was not provided.
    public static func current(service: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> BuildInfo {
        let commit = environment["CONTEXO_GIT_COMMIT"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        return BuildInfo(service: service, commit: commit)
    }
}
