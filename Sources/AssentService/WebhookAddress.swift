public import AssentCore
import Foundation

/// Where a webhook may point (issue 14): `https://` to a public address — never a private,
/// link-local, shared or reserved range, so that a webhook cannot reach the database, a cloud's
/// metadata service or anything else inside the network (SSRF). Loopback only when allowed (the
/// tests and the demo), over `http://` or `https://`.
///
/// A host name is checked twice: its literal form when the webhook is added, and every address
/// it resolves to before each delivery (a name may resolve to a private address, or change to
/// one later).
public struct WebhookAddress: Sendable, Equatable {
    public var url: String
    public var host: String
    public var port: Int
    public var isHTTPS: Bool

    /// Parses and checks a webhook URL. - Throws: `invalid_argument` saying why it is refused.
    public static func parse(_ text: String, allowLoopback: Bool) throws(AssentError) -> WebhookAddress {
        guard text.utf8.count <= 2_048, let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let rawHost = components.host, !rawHost.isEmpty
        else { throw .invalidArgument("the webhook URL must be an absolute https:// URL") }
        guard components.user == nil, components.password == nil else {
            throw .invalidArgument("the webhook URL may not carry credentials; deliveries are signed instead")
        }
        guard components.fragment == nil else { throw .invalidArgument("the webhook URL may not have a fragment") }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost.lowercased()
        let loopback = isLoopbackName(host) || address(of: host).map(isLoopback) == true
        switch scheme {
        case "https": break
        case "http" where loopback && allowLoopback: break
        default: throw .invalidArgument("the webhook URL must use https://")
        }
        if loopback {
            guard allowLoopback else { throw .invalidArgument("the webhook URL may not point at this machine (\(host))") }
        } else if let bytes = address(of: host), let range = forbiddenRange(bytes) {
            throw .invalidArgument("the webhook URL may not point at a \(range) address (\(host))")
        } else if address(of: host) == nil, !isHostName(host) {
            throw .invalidArgument("the webhook URL's host \(host) is not a name or an IP address")
        }
        return WebhookAddress(url: text, host: host, port: components.port ?? (scheme == "https" ? 443 : 80), isHTTPS: scheme == "https")
    }

    /// Why an address (4 or 16 bytes) may not receive deliveries, or nil when it may. Loopback is
    /// decided apart (``isLoopback(_:)``).
    public static func forbiddenRange(_ bytes: [UInt8]) -> String? {
        if bytes.count == 16 {
            // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms are judged as IPv4.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return forbiddenRange(Array(bytes[12..<16]))
            }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) { return bytes[15] == 1 ? "loopback" : "unspecified" }
            if bytes[0] & 0xFE == 0xFC { return "private (unique local)" }
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return "link-local" }
            if bytes[0] == 0xFF { return "multicast" }
            if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return "documentation" }
            if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xFF && bytes[3] == 0x9B { return forbiddenRange(Array(bytes[12..<16])) }
            return nil
        }
        guard bytes.count == 4 else { return "malformed" }
        let (a, b) = (bytes[0], bytes[1])
        switch a {
        case 0: return "unspecified"
        case 10: return "private"
        case 127: return "loopback"
        case 100 where b & 0xC0 == 64: return "shared (carrier-grade NAT)"
        case 169 where b == 254: return "link-local (cloud metadata)"
        case 172 where b & 0xF0 == 16: return "private"
        case 192 where b == 168: return "private"
        case 192 where b == 0 && bytes[2] == 0: return "reserved"
        case 192 where b == 0 && bytes[2] == 2, 198 where b == 51 && bytes[2] == 100, 203 where b == 0 && bytes[2] == 113:
            return "documentation"
        case 198 where b & 0xFE == 18: return "benchmarking"
        case 224...255: return "multicast or reserved"
        default: return nil
        }
    }

    public static func isLoopback(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return bytes[0] == 127 }
        if bytes.count == 16 {
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return bytes[12] == 127 }
            return bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        }
        return false
    }

    static func isLoopbackName(_ host: String) -> Bool { host == "localhost" || host.hasSuffix(".localhost") }

    static func isHostName(_ host: String) -> Bool {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && host.utf8.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.utf8.count <= 63
                    && label.utf8.allSatisfy { $0 == 0x2D || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }
            }
            // A name of digits and dots only is a malformed IPv4 address, not a name.
            && !host.utf8.allSatisfy { $0 == 0x2E || (0x30...0x39).contains($0) }
    }

    /// The bytes of an IPv4 or IPv6 literal, or nil for a name.
    public static func address(of host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
