import Foundation

/// Reads a service's configuration from environment variables and collects every problem, so that
/// start-up fails once with a message naming each bad variable instead of one at a time.
///
/// Secret values are never echoed back: problems name the variable and say what is wrong with it.
public struct ConfigurationReader {
    private let environment: [String: String]
    /// The problems found so far, one per variable.
    public private(set) var problems: [ConfigurationProblem] = []

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The raw value of `name`, with empty strings treated as absent.
    public func value(_ name: String) -> String? {
        guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
            return nil
        }
        return raw
    }

    /// A required non-secret string.
    public mutating func string(_ name: String) -> String {
        guard let value = value(name) else {
            problems.append(.init(variable: name, reason: "is required"))
            return ""
        }
        return value
    }

    /// An optional string with a default.
    public func string(_ name: String, default defaultValue: String) -> String {
        value(name) ?? defaultValue
    }

    /// A required secret of at least `minimumLength` bytes. Its value never appears in a problem.
    public mutating func secret(_ name: String, minimumLength: Int = 1) -> String {
        guard let value = value(name) else {
            problems.append(.init(variable: name, reason: "is required (a secret: set it in the environment)"))
            return ""
        }
        if value.utf8.count < minimumLength {
            problems.append(.init(variable: name, reason: "must be at least \(minimumLength) bytes long"))
        }
        return value
    }

    /// An integer within `range`, or `defaultValue` when unset.
    public mutating func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) -> Int {
        guard let raw = value(name) else { return defaultValue }
        guard let number = Int(raw), range.contains(number) else {
            problems.append(.init(variable: name, reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound)"))
            return defaultValue
        }
        return number
    }

    /// A value parsed by `parse`, which returns nil for malformed input.
    /// `describe` says what a valid value looks like; the bad value itself is not echoed when `isSecret`.
    public mutating func parsed<T>(
        _ name: String,
        required: Bool = true,
        isSecret: Bool = false,
        expected describe: String,
        _ parse: (String) -> T?
    ) -> T? {
        guard let raw = value(name) else {
            if required { problems.append(.init(variable: name, reason: "is required (\(describe))")) }
            return nil
        }
        guard let value = parse(raw) else {
            let shown = isSecret ? "" : " (got \"\(raw.prefix(80))\")"
            problems.append(.init(variable: name, reason: "must be \(describe)\(shown)"))
            return nil
        }
        return value
    }

    /// One of a fixed set of values.
    public mutating func choice<T: RawRepresentable & CaseIterable>(_ name: String, default defaultValue: T) -> T
    where T.RawValue == String {
        guard let raw = value(name) else { return defaultValue }
        guard let value = T(rawValue: raw.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            problems.append(.init(variable: name, reason: "must be one of: \(allowed) (got \"\(raw.prefix(40))\")"))
            return defaultValue
        }
        return value
    }

    /// Records a problem found by the caller's own cross-field checks.
    public mutating func report(_ variable: String, _ reason: String) {
        problems.append(.init(variable: variable, reason: reason))
    }

    /// Throws one error listing every problem, if there were any.
    public func validate(service: String) throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(service: service, problems: problems) }
    }
}

/// One invalid or missing variable.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    public let reason: String
    public var description: String { "\(variable) \(reason)" }
}

/// Every configuration problem of a service, reported together at start-up.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let service: String
    public let problems: [ConfigurationProblem]

    public var description: String {
        let names = problems.map(\.variable).joined(separator: ", ")
        let lines = problems.map { "  - \($0)" }.joined(separator: "\n")
        return "\(service): invalid configuration (\(names)):\n\(lines)"
    }
}

extension ConfigurationReader {
    /// S2.1: in production, what travels to another party goes over TLS. Reports `name` when `url`
    /// is plain http to anything but this machine's loopback (a local model server, a sidecar).
    public mutating func requireTLS(_ name: String, _ url: URL?, in environment: DeploymentEnvironment) {
        guard environment == .production, let url, url.scheme?.lowercased() == "http" else { return }
        let host = (url.host ?? "").lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.") { return }
        report(name, "must be an https:// URL in production (got plain http to \(host.prefix(100)))")
    }
}
