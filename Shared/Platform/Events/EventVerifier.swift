import Contract
import Foundation

/// The stream-entry fields of a signed event: the envelope's exact bytes, the id of the key that
/// signed them and the Ed25519 signature over them (base64url).
public enum SignedEntryField {
    public static let envelope = "envelope"
    public static let keyID = "key_id"
    public static let signature = "signature"
    /// The ``TenantTicket`` Postgres minted for the event when its producer wrote it (absent for an
    /// event without a tenant). Not covered by the signature: Postgres checks it itself.
    public static let tenantTicket = "tenant_ticket"
}

/// Why an entry was not accepted as an event. Its `code` labels the rejection metric; its
/// description goes with the entry to the dead-letter stream and the log.
public enum EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case noEnvelope
    case unsigned
    case unknownKey(String)
    case badSignature(keyID: String)
    case malformed(String)
    case noOwner(type: String)
    case wrongSigner(type: String, signer: ServiceName, owner: ServiceName)

    public var code: String {
        switch self {
        case .noEnvelope: "no_envelope"
        case .unsigned: "unsigned"
        case .unknownKey: "unknown_key"
        case .badSignature: "bad_signature"
        case .malformed: "malformed"
        case .noOwner: "no_owner"
        case .wrongSigner: "wrong_signer"
        }
    }

    public var description: String {
        switch self {
        case .noEnvelope: "rejected: the entry has no envelope field"
        case .unsigned: "rejected: the event is not signed (no key_id or signature field)"
        case .unknownKey(let id): "rejected: signed with key \"\(id.prefix(64))\", which this service does not trust"
        case .badSignature(let id): "rejected: the signature does not match the envelope under key \"\(id)\""
        case .malformed(let reason): "rejected: malformed envelope: \(reason)"
        case .noOwner(let type): "rejected: no service publishes events of type \"\(type.prefix(100))\""
        case .wrongSigner(let type, let signer, let owner):
            "rejected: \(type) must be signed by \(owner.rawValue), but was signed by \(signer.rawValue)'s key"
        }
    }
}

/// Checks that a stream entry is an event its owner published: a valid signature over the exact
/// envelope bytes, by a trusted key, of the service that owns the event's type.
public struct EventVerifier: Sendable {
    public let keyring: EventKeyring
    public let ownership: EventOwnership

    public init(keyring: EventKeyring, ownership: EventOwnership = .contexo) {
        self.keyring = keyring
        self.ownership = ownership
    }

    /// The verified envelope and the service that signed it.
    public func verify(_ entry: StreamEntry) -> Result<EventEnvelope, EventRejection> {
        verify(fields: entry.fields)
    }

    public func verify(fields: [String: [UInt8]]) -> Result<EventEnvelope, EventRejection> {
        guard let body = fields[SignedEntryField.envelope] else { return .failure(.noEnvelope) }
        guard let keyField = fields[SignedEntryField.keyID], let signatureField = fields[SignedEntryField.signature] else {
            return .failure(.unsigned)
        }
        let keyID = String(decoding: keyField, as: UTF8.self)
        guard let key = keyring.key(id: keyID) else { return .failure(.unknownKey(keyID)) }
        guard let signature = Data(base64URL: String(decoding: signatureField, as: UTF8.self)), signature.count == 64,
              key.isValid(signature: Array(signature), for: body)
        else { return .failure(.badSignature(keyID: keyID)) }
        let envelope: EventEnvelope
        do {
            envelope = try EventEnvelope.decode(from: Data(body))
        } catch {
            return .failure(.malformed("\(error)"))
        }
        guard let owner = ownership.owner(of: envelope.type) else { return .failure(.noOwner(type: envelope.type)) }
        guard owner == key.service else {
            return .failure(.wrongSigner(type: envelope.type, signer: key.service, owner: owner))
        }
        return .success(envelope)
    }
}
