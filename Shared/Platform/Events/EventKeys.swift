import Contract
import Crypto
import Foundation

/// The Ed25519 key one service signs the events it publishes with. Only that service holds it
/// (`CONTEXO_EVENT_SIGNING_KEY`, `<key id>:<base64url 32-byte seed>`); consumers hold its public
/// half in their ``EventKeyring``.
public struct EventSigningKey: Sendable {
    public let keyID: String
    private let key: Curve25519.Signing.PrivateKey

    public init(keyID: String, key: Curve25519.Signing.PrivateKey = .init()) {
        precondition(EventPublicKey.isValidKeyID(keyID), "a key id is 1-64 letters, digits, '.', '_' or '-'")
        self.keyID = keyID
        self.key = key
    }

    /// Parses `<key id>:<base64url seed>`; nil when malformed.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, EventPublicKey.isValidKeyID(parts[0]), let seed = Data(base64URL: parts[1]), seed.count == 32,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        else { return nil }
        self.init(keyID: String(parts[0]), key: key)
    }

    /// The public half, registered to `service`.
    public func publicKey(of service: ServiceName) -> EventPublicKey {
        EventPublicKey(service: service, keyID: keyID, key: key.publicKey)
    }

    /// The `CONTEXO_EVENT_SIGNING_KEY` form of this key (a secret: never log it).
    public var secretText: String { keyID + ":" + key.rawRepresentation.base64URLEncodedString() }

    /// The signature of `bytes` (64 bytes, base64url in the stream entry).
    public func signature(for bytes: [UInt8]) -> String {
        // Ed25519 cannot fail to sign a byte string with a valid key.
        (try! key.signature(for: bytes)).base64URLEncodedString()
    }
}

/// A public key consumers trust, and the service it speaks for.
public struct EventPublicKey: Sendable, Equatable, CustomStringConvertible {
    public let service: ServiceName
    public let keyID: String
    let key: Curve25519.Signing.PublicKey

    public init(service: ServiceName, keyID: String, key: Curve25519.Signing.PublicKey) {
        self.service = service
        self.keyID = keyID
        self.key = key
    }

    /// Parses `<service>:<key id>:<base64url 32-byte public key>`; nil when malformed.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let service = ServiceName(rawValue: String(parts[0])), Self.isValidKeyID(parts[1]),
              let raw = Data(base64URL: parts[2]), raw.count == 32,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
        else { return nil }
        self.init(service: service, keyID: String(parts[1]), key: key)
    }

    /// The `CONTEXO_EVENT_PUBLIC_KEYS` form of this key.
    public var description: String { "\(service.rawValue):\(keyID):\(key.rawRepresentation.base64URLEncodedString())" }

    func isValid(signature: [UInt8], for bytes: [UInt8]) -> Bool { key.isValidSignature(signature, for: bytes) }

    public static func == (lhs: EventPublicKey, rhs: EventPublicKey) -> Bool {
        lhs.service == rhs.service && lhs.keyID == rhs.keyID && lhs.key.rawRepresentation == rhs.key.rawRepresentation
    }

    static func isValidKeyID(_ text: some StringProtocol) -> Bool {
        (1...64).contains(text.utf8.count) && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
        }
    }
}

/// The public keys a service trusts, by key id. More than one key per service may be valid at a
/// time, so a producer's key can be rotated: add the new public key everywhere, switch the
/// producer's signing key, remove the old public key once its events are consumed.
public struct EventKeyring: Sendable, Equatable {
    public private(set) var keys: [String: EventPublicKey]

    public init(_ keys: [EventPublicKey] = []) {
        var byID: [String: EventPublicKey] = [:]
        for key in keys { byID[key.keyID] = key }
        self.keys = byID
    }

    /// Parses a comma- or whitespace-separated list of ``EventPublicKey``s; nil when any is
    /// malformed or two share a key id.
    public init?(list text: String) {
        let items = text.split(whereSeparator: { $0 == "," || $0.isWhitespace })
        var keys: [EventPublicKey] = []
        for item in items {
            guard let key = EventPublicKey(item), !keys.contains(where: { $0.keyID == key.keyID }) else { return nil }
            keys.append(key)
        }
        self.init(keys)
    }

    /// The `CONTEXO_EVENT_PUBLIC_KEYS` form.
    public var description: String { keys.values.map(\.description).sorted().joined(separator: ",") }

    public func key(id: String) -> EventPublicKey? { keys[id] }
}

/// A service's event keys: the one it signs with (producers only) and the ones it trusts.
public struct EventKeys: Sendable {
    public var signingKey: EventSigningKey?
    public var keyring: EventKeyring

    public init(signingKey: EventSigningKey? = nil, keyring: EventKeyring = .init()) {
        self.signingKey = signingKey
        self.keyring = keyring
    }
}
