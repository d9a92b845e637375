import AssentRedaction
import Testing

/// IP addresses (issue 13): IPv6 in every written form, and the ranges that point at nobody.
@Suite("IP addresses")
struct AddressTests {
    static func flagged(_ text: String) -> [String] { flaggedTexts(text, [.ipAddress]) }

    @Test(
        "IPv6 in every form is flagged whole",
        arguments: [
            ("client 2a00:1450:4001:82b::200e connected", "2a00:1450:4001:82b::200e"),
            ("full 2a00:1450:4001:082b:0000:0000:0000:200e here", "2a00:1450:4001:082b:0000:0000:0000:200e"),
            ("mapped ::ffff:81.2.69.142 seen", "::ffff:81.2.69.142"),
            ("url https://[2606:4700:4700::1111]:8443/path", "2606:4700:4700::1111"),
            ("jdbc:postgresql://[2a01:4f8:c17:b8f::2]:5432/app", "2a01:4f8:c17:b8f::2"),
            ("ends a sentence 2a03:2880:f12f:83:face:b00c:0:25de.", "2a03:2880:f12f:83:face:b00c:0:25de"),
            ("letters first abcd:ef01:2345:6789::1 ok", "abcd:ef01:2345:6789::1"),
            ("global 2001:4860:4860::8888 dns", "2001:4860:4860::8888"),
        ])
    func ipv6(text: String, address: String) {
        #expect(Self.flagged(text) == [address])
    }

    @Test(
        "addresses that point at nobody, and things shaped like IPv6 that are not, stay unflagged",
        arguments: [
            "loopback ::1 and 127.0.0.1 and 127.8.9.10", "unspecified :: and 0.0.0.0", "link-local fe80::1ff:fe23:4567:890a%eth0",
            "docs 2001:db8::1 and [2001:db8:85a3::8a2e:370:7334]:443", "docs 192.0.2.44, 198.51.100.7 and 203.0.113.9",
            "link-local 169.254.169.254", "multicast ff02::1 and 224.0.0.251", "time 10:30:45 and 2025-09-01T10:00:00Z",
            "mac 00:1a:2b:3c:4d:5e", "rust std::vec::Vec and a::b::c", "c++ std::map<int, int>", "hex dead::beef",
            "ratio 3:2 and 16:9",
            // Four-part versions and image tags shaped like IPv4.
            "build=2.5.11.221", "  image: app:2.12.25.44", "Version: 4.26.28.119",
        ])
    func notPersonal(text: String) {
        #expect(Self.flagged(text).isEmpty, "\(Self.flagged(text))")
    }

    @Test("public IPv4 stays flagged, private ranges too (they can name a home network's machine)")
    func ipv4() {
        #expect(Self.flagged("from 81.2.69.142 and 10.1.2.3 and 192.168.1.20") == ["81.2.69.142", "10.1.2.3", "192.168.1.20"])
    }
}
