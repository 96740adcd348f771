import Contract
import Crypto
import Foundation
import Platform

/// The event keys tests run with: one Ed25519 key per producing service, derived from a fixed
/// seed so that test processes (the stream probe, real service executables) agree without passing
/// keys around. Never used outside tests.
public enum TestEventKeys {
    public static let producers: [ServiceName] = [.chat, .ingest, .billing]

    public static func signingKey(_ service: ServiceName, generation: Int = 1) -> EventSigningKey {
        let seed = SHA256.hash(data: Data("contexo-test-event-key/\(service.rawValue)/\(generation)".utf8))
        return EventSigningKey(keyID: "\(service.rawValue)-test-\(generation)",
                               key: try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(seed)))
    }

    /// The public keys of every producer.
    public static let keyring = EventKeyring(producers.map { signingKey($0).publicKey(of: $0) })

    /// What `service` runs with: its own signing key (producers) and every producer's public key.
    public static func events(for service: ServiceName) -> EventKeys {
        EventKeys(signingKey: service == .gateway ? nil : signingKey(service), keyring: keyring)
    }

    /// The same as environment variables, for a service executable.
    public static func environment(for service: ServiceName) -> [String: String] {
        var environment = ["CONTEXO_EVENT_PUBLIC_KEYS": keyring.description]
        if service != .gateway { environment["CONTEXO_EVENT_SIGNING_KEY"] = signingKey(service).secretText }
        return environment
    }

    /// Probe events (`probe.*`, see ``ProbeEvents``) are Chat's in tests.
    public static let probeVerifier = EventVerifier(keyring: keyring, ownership: EventOwnership.contexo.adding(family: "probe", owner: .chat))
}

extension TestEventKeys {
    /// `XADD stream * envelope <body> key_id <id> signature <sig>`: an entry as a relay signs it
    /// (with `key`, which may be any key: tests forge entries with it).
    public static func signedAdd(_ body: [UInt8], to stream: String, signedBy key: EventSigningKey) -> [[UInt8]] {
        [Array("XADD".utf8), Array(stream.utf8), Array("*".utf8),
         Array(SignedEntryField.envelope.utf8), body,
         Array(SignedEntryField.keyID.utf8), Array(key.keyID.utf8),
         Array(SignedEntryField.signature.utf8), Array(key.signature(for: body).utf8)]
    }

    /// The same for an envelope, signed by `service`'s test key, with the tenant ticket Postgres
    /// would have minted for it when its producer wrote it to the outbox.
    public static func signedAdd(_ envelope: EventEnvelope, to stream: String, by service: ServiceName) throws -> [[UInt8]] {
        var command = signedAdd(Array(try envelope.encoded()), to: stream, signedBy: signingKey(service))
        if let ticket = eventTicket(envelope) { command += [Array(SignedEntryField.tenantTicket.utf8), Array(ticket.text.utf8)] }
        return command
    }

    /// The ticket of an event for its tenant, as `contexo_tickets.event_ticket` mints it (8 days).
    public static func eventTicket(_ envelope: EventEnvelope) -> TenantTicket? {
        envelope.tenantID.map {
            TestStack.ticketKey.mint(for: $0, scope: "e-\(envelope.id.uuidString.lowercased())",
                                     expires: Int64(Date().timeIntervalSince1970) + 8 * 86_400)
        }
    }
}
