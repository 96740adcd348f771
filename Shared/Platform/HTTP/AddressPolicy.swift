import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which network addresses an outbound request for a customer may connect to (Ingest's web
/// fetcher, Chat's webhook deliveries), so that a URL a customer sends cannot reach this
/// service's own network (SSRF): loopback, unspecified, private, link-local (which holds
/// the cloud metadata service at 169.254.169.254), shared (CGNAT), multicast, broadcast and
/// reserved ranges are refused, in IPv4 and IPv6, including IPv4 addresses embedded in IPv6
/// (mapped, compatible, NAT64, 6to4). Only global unicast addresses pass.
///
/// `allowPrivateNetworks` turns the check off (tests against a local server, a self-hosted install
/// that should read its intranet). A host name is judged by every address it resolves to: one
/// refused address refuses the host.
public struct AddressPolicy: Sendable {
    /// Whether every address may be fetched, private and loopback ones included.
    public var allowPrivateNetworks: Bool
    /// Addresses permitted although in a refused range, in any textual form (tests use it to let
    /// the first hop reach a local server while still refusing every other private address).
    public var exemptAddresses: Set<String> = []

    public init(allowPrivateNetworks: Bool = false) {
        self.allowPrivateNetworks = allowPrivateNetworks
    }

    /// Whether `address`, an IPv4 or IPv6 address in text (brackets and a `%zone` are tolerated),
    /// may be fetched. Text that is not an IP address is refused.
    public func permits(_ address: String) -> Bool {
        guard let bytes = Self.bytes(of: address) else { return false }
        if allowPrivateNetworks || Self.classify(bytes) == .global { return true }
        return exemptAddresses.contains { Self.bytes(of: $0) == bytes }
    }

    /// Whether a resolved socket address may be fetched (Unix domain sockets never may).
    public func permits(_ address: SocketAddress) -> Bool {
        guard let text = address.ipAddress else { return false }
        return permits(text)
    }

    /// Whether a host *name* may be fetched before it is even resolved: `localhost` and names
    /// under `.localhost` are this machine (RFC 6761) unless private networks are allowed.
    public func permits(hostName: String) -> Bool {
        guard !allowPrivateNetworks else { return true }
        let name = Self.bareHost(hostName)
        return name != "localhost" && !name.hasSuffix(".localhost")
    }

    /// The addresses `host` resolves to, in the resolver's order of preference, as text. An IP
    /// literal is returned as it is (canonicalised). `getaddrinfo` runs on NIO's blocking thread
    /// pool, never on the cooperative pool.
    ///
    /// - Throws: ``AddressRefusal/unresolvable(host:)`` when the name does not resolve.
    public func resolve(host: String, port: Int) async throws -> [String] {
        let name = Self.bareHost(host)
        if let bytes = Self.bytes(of: name) { return [Self.text(of: bytes)] }
        return try await NIOThreadPool.singleton.runIfActive { try Self.lookUp(name, port: port) }
    }

    /// Throws ``AddressRefusal/forbiddenAddress(host:)`` unless every one of `addresses` (what `host`
    /// resolved to) is permitted; an empty list is refused too.
    public func check(host: String, addresses: [String]) throws {
        guard !addresses.isEmpty, addresses.allSatisfy({ permits($0) }) else {
            throw AddressRefusal.forbiddenAddress(host: Self.bareHost(host))
        }
    }

    /// Resolves `host` and checks every address it resolves to: the addresses a request to `host`
    /// may use (connect to these, not to a second resolution of the name).
    public func permittedAddresses(host: String, port: Int) async throws -> [String] {
        let name = Self.bareHost(host)
        if Self.bytes(of: name) == nil, !permits(hostName: name) { throw AddressRefusal.forbiddenAddress(host: name) }
        let addresses = try await resolve(host: name, port: port)
        try check(host: name, addresses: addresses)
        return addresses
    }
}

/// Why ``AddressPolicy`` refused a host.
public enum AddressRefusal: Error, Equatable, Sendable {
    /// The host is, or resolves to, an address the policy refuses.
    case forbiddenAddress(host: String)
    /// The host name does not resolve.
    case unresolvable(host: String)
}

// MARK: - Address ranges

extension AddressPolicy {
    /// What kind of address an IP address is; only `global` ones are fetched by default.
    enum AddressClass: Equatable, Sendable {
        case global, unspecified, loopback, privateNetwork, linkLocal, sharedAddressSpace, multicast, broadcast, reserved
    }

    /// The class of a textual address, or nil when it is not an IP address.
    static func classify(_ address: String) -> AddressClass? {
        bytes(of: address).map(classify)
    }

    /// The class of a 4-byte (IPv4) or 16-byte (IPv6) address in network order.
    static func classify(_ bytes: [UInt8]) -> AddressClass {
        bytes.count == 4 ? classifyV4(bytes) : classifyV6(bytes)
    }

    private static func classifyV4(_ bytes: [UInt8]) -> AddressClass {
        let (a, b, c) = (bytes[0], bytes[1], bytes[2])
        switch a {
        case 0: return .unspecified                                          // 0.0.0.0/8
        case 10: return .privateNetwork                                      // 10.0.0.0/8
        case 100 where b & 0xC0 == 64: return .sharedAddressSpace            // 100.64.0.0/10
        case 127: return .loopback                                           // 127.0.0.0/8
        case 169 where b == 254: return .linkLocal                           // 169.254.0.0/16
        case 172 where b & 0xF0 == 16: return .privateNetwork                // 172.16.0.0/12
        case 192 where b == 168: return .privateNetwork                      // 192.168.0.0/16
        case 192 where b == 0 && (c == 0 || c == 2): return .reserved        // protocol assignments, TEST-NET-1
        case 192 where b == 88 && c == 99: return .reserved                  // 6to4 relay anycast
        case 198 where b & 0xFE == 18: return .reserved                      // 198.18.0.0/15 benchmarking
        case 198 where b == 51 && c == 100, 203 where b == 0 && c == 113: return .reserved  // TEST-NET-2, -3
        case 224...239: return .multicast                                    // 224.0.0.0/4
        case 255 where bytes == [255, 255, 255, 255]: return .broadcast
        case 240...255: return .reserved                                     // 240.0.0.0/4
        default: return .global
        }
    }

    private static func classifyV6(_ bytes: [UInt8]) -> AddressClass {
        let embedded = Array(bytes[12..<16])
        if bytes[0..<12].allSatisfy({ $0 == 0 }) {
            if embedded == [0, 0, 0, 0] { return .unspecified }                            // ::
            if embedded == [0, 0, 0, 1] { return .loopback }                               // ::1
            return classifyV4(embedded)                                                    // ::a.b.c.d (compatible)
        }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return classifyV4(embedded)                                                    // ::ffff:a.b.c.d (mapped)
        }
        if bytes[0..<8].allSatisfy({ $0 == 0 }), Array(bytes[8..<12]) == [0xFF, 0xFF, 0, 0] {
            return classifyV4(embedded)                                                    // ::ffff:0:a.b.c.d (SIIT)
        }
        if Array(bytes[0..<12]) == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
            return classifyV4(embedded)                                                    // 64:ff9b::/96 (NAT64)
        }
        if Array(bytes[0..<6]) == [0, 0x64, 0xFF, 0x9B, 0, 1] { return .privateNetwork }   // 64:ff9b:1::/48
        if bytes[0] == 0x20, bytes[1] == 0x02 { return classifyV4(Array(bytes[2..<6])) }   // 2002::/16 (6to4)
        if Array(bytes[0..<4]) == [0x20, 0x01, 0, 0] { return .reserved }                  // 2001::/32 (Teredo)
        if Array(bytes[0..<4]) == [0x20, 0x01, 0x0D, 0xB8] { return .reserved }            // 2001:db8::/32
        if bytes[0] & 0xFE == 0xFC { return .privateNetwork }                              // fc00::/7
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0x80 { return .linkLocal }                 // fe80::/10
        if bytes[0] == 0xFE, bytes[1] & 0xC0 == 0xC0 { return .privateNetwork }            // fec0::/10 (site-local)
        if bytes[0] == 0xFF { return .multicast }                                          // ff00::/8
        if bytes[0] & 0xE0 == 0x20 { return .global }                                      // 2000::/3
        return .reserved                                                                   // everything unassigned
    }
}

// MARK: - Text, parsing and resolution

extension AddressPolicy {
    /// A host as compared and resolved: without IPv6 brackets or a trailing dot, lower-cased.
    public static func bareHost(_ host: String) -> String {
        var name = Substring(host)
        if name.hasPrefix("["), name.hasSuffix("]") { name = name.dropFirst().dropLast() }
        if name.hasSuffix("."), name.count > 1 { name = name.dropLast() }
        return name.lowercased()
    }

    /// The bytes of an IPv4 (4) or IPv6 (16) address in strict textual form (`inet_pton`: no
    /// octal, hex or shortened IPv4), or nil. IPv6 brackets and a `%zone` suffix are ignored.
    public static func bytes(of address: String) -> [UInt8]? {
        var text = Substring(address)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        let string = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, string, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, string, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The canonical text of 4 or 16 address bytes (`inet_ntop`).
    static func text(of bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let written = bytes.withUnsafeBytes { raw in
            buffer.withUnsafeMutableBufferPointer { out in
                inet_ntop(family, raw.baseAddress, out.baseAddress, socklen_t(out.count)) != nil
            }
        }
        guard written else { return "" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// `getaddrinfo` for TCP, every distinct address in the order returned. Blocks: call it on a
    /// thread pool.
    static func lookUp(_ host: String, port: Int) throws -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw AddressRefusal.unresolvable(host: host)
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let address = entry.pointee.ai_addr, let bytes = Self.bytes(of: address, family: entry.pointee.ai_family) {
                let text = Self.text(of: bytes)
                if !text.isEmpty, !addresses.contains(text) { addresses.append(text) }
            }
            cursor = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw AddressRefusal.unresolvable(host: host) }
        return addresses
    }

    private static func bytes(of address: UnsafeMutablePointer<sockaddr>, family: Int32) -> [UInt8]? {
        switch family {
        case AF_INET:
            var v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            return withUnsafeBytes(of: &v4) { Array($0) }
        case AF_INET6:
            var v6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
            return withUnsafeBytes(of: &v6) { Array($0) }
        default:
            return nil
        }
    }
}
