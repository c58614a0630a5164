import Foundation
import Herald
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The SSRF guard: which addresses count as private, what a URL must look like, and when the operator's
/// settings let a private address through.
@Suite("Destination policy and address classification")
struct DestinationPolicyTests {
    @Test(arguments: [
        ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
        ("172.31.255.255", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"), ("100.64.0.1", "shared address space"),
        ("0.0.0.0", "this network"), ("224.0.0.1", "multicast"), ("255.255.255.255", "reserved"), ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "documentation"), ("192.0.0.8", "IETF protocol assignments"), ("::1", "loopback"), ("::", "unspecified"),
        ("fe80::1", "link-local"), ("fc00::1", "unique local"), ("fd12:3456::1", "unique local"), ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("64:ff9b::a00:1", "private"), ("2001:db8::1", "documentation"),
        ("fec0::1", "site-local"),
    ])
    func nonPublicAddressesAreNamed(address: String, kind: String) throws {
        #expect(try #require(IPAddress(address)).nonPublicKind == kind)
    }

    @Test(arguments: ["8.8.8.8", "172.32.0.1", "100.128.0.1", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2a00:1450::1"])
    func publicAddressesPass(address: String) throws {
        #expect(try #require(IPAddress(address)).nonPublicKind == nil)
    }

    @Test func onlyNumericAddressesParse() {
        #expect(IPAddress("example.com") == nil && IPAddress("256.1.1.1") == nil && IPAddress("") == nil)
        #expect(IPAddress("10.0.0.1")?.description == "10.0.0.1")
        #expect(IPAddress("::1")?.bytes.count == 16)
    }

    @Test(
        arguments: [
            ("https://hooks.example.com/h", nil), ("http://hooks.example.com:8080/h?x=1", nil),
            ("ftp://hooks.example.com", "must use http or https, not ftp"), ("hooks.example.com/h", "must be an absolute http or https URL"),
            ("https://", "must name a host"), ("https://user:pw@hooks.example.com", "must not carry a user name or password; use a secret instead"),
        ] as [(String, String?)])
    func urlsAreCheckedForShapeWithoutTheNetwork(url: String, problem: String?) {
        #expect(DestinationPolicy.syntaxProblem(url) == problem)
    }

    @Test func privateDestinationsAreRefusedUnlessAllowed() async throws {
        let strict = DestinationPolicy()
        let loopback = try #require(URL(string: "http://127.0.0.1:9000/h"))
        #expect(await strict.problem(for: loopback)?.contains("127.0.0.1 resolves to 127.0.0.1 (loopback)") == true)
        #expect(await strict.problem(for: try #require(URL(string: "http://[::1]/h")))?.contains("loopback") == true)
        #expect(await strict.problem(for: try #require(URL(string: "http://localhost/h")))?.contains("loopback") == true, "names are resolved")
        #expect(await strict.problem(for: try #require(URL(string: "http://169.254.169.254/latest/meta-data")))?.contains("link-local") == true)
        #expect(await strict.problem(for: try #require(URL(string: "https://8.8.8.8/h"))) == nil)
        #expect(await strict.problem(for: try #require(URL(string: "http://no-such-host.invalid/h")))?.hasPrefix("cannot resolve") == true)
        #expect(await DestinationPolicy(allowPrivateNetworks: true).problem(for: loopback) == nil)
        let named = DestinationPolicy(allowedHosts: ["LOCALHOST", "127.0.0.1"])
        #expect(await named.problem(for: loopback) == nil)
        #expect(await named.problem(for: try #require(URL(string: "http://localhost:1/h"))) == nil, "allowed host names are case-insensitive")
        #expect(await named.problem(for: try #require(URL(string: "http://10.0.0.1/h"))) != nil)
    }

    /// IPv6 forms that carry a private IPv4 address, and prefixes that are never public, which the first classification
    /// called public (`[::127.0.0.1]` reached loopback).
    @Test(arguments: [
        ("::127.0.0.1", "loopback"), ("::169.254.169.254", "link-local"), ("::10.0.0.1", "private"), ("::8.8.8.8", "IPv4-compatible (deprecated)"),
        ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::", "link-local"), ("2002:c0a8:101::1", "private"),
        // Teredo: the server's IPv4 in bits 32-63, the client's inverted in the last 32 bits.
        ("2001:0:7f00:1::", "loopback"), ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"), ("2001:0:a9fe:a9fe::1", "link-local"),
        ("64:ff9b:1::a00:1", "local-use NAT64"), ("64:ff9b:1:ffff::7f00:1", "local-use NAT64"), ("::ffff:0:7f00:1", "reserved"),
        ("100::1", "discard-only"), ("2001:2::1", "benchmarking"), ("3fff::1", "documentation"),
    ])
    func embeddedAndReservedIPv6FormsAreNotPublic(address: String, kind: String) throws {
        #expect(try #require(IPAddress(address)).nonPublicKind == kind)
    }

    @Test(arguments: ["2002:808:808::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7", "64:ff9b::808:808"])
    func embeddedPublicAddressesStayPublic(address: String) throws {
        #expect(try #require(IPAddress(address)).nonPublicKind == nil)
    }

    /// Every shorthand `inet_aton` (and so `getaddrinfo`, and so every connect) reads as an IPv4 address.
    @Test(arguments: [
        ("127.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("0", "0.0.0.0"),
        ("10.1", "10.0.0.1"), ("192.168.257", "192.168.1.1"), ("0x7f.1", "127.0.0.1"), ("0251.0376.0251.0376", "169.254.169.254"),
        ("127.0.0.1.", "127.0.0.1"), ("[::127.0.0.1]", "0:0:0:0:0:0:7f00:1"), ("fe80::1%eth0", "fe80:0:0:0:0:0:0:1"),
    ])
    func numericHostsAreReadAsTheResolverReadsThem(host: String, address: String) throws {
        #expect(try #require(IPAddress(numericHost: host)).description == address)
    }

    /// The parser agrees with the C library's `inet_aton` on every case, valid or not. (A final dot, which `inet_aton`
    /// refuses, is read as the absolute form of the same host instead: `127.0.0.1.` is refused as loopback.)
    @Test(arguments: [
        "127.1", "0x7f000001", "2130706433", "017700000001", "0", "00", "0x", "0x.1", "1.2.3.4", "1.2.3.4.5", "256.1.1.1", "1.256.1",
        "1.2.65536", "1.16777216", "4294967295", "4294967296", "08", "09.1", "0x1g", "1..2", ".1", "", "a.b.c.d", "+1", "-1", "0x100000000",
        "037777777777", "040000000000", "1.2.3.0x100",
    ])
    func shorthandParsingMatchesInetAton(host: String) throws {
        var raw = in_addr()
        let expected: String? = inet_aton(host, &raw) == 1 ? withUnsafeBytes(of: &raw) { $0.map(String.init).joined(separator: ".") } : nil
        let parsed = IPAddress(numericHost: host)
        #expect(parsed.flatMap { $0.isIPv4 ? $0.description : nil } == expected, "\(host)")
    }

    /// What a settings endpoint refuses with no DNS: every numeric form of a private address, and localhost. These
    /// were accepted when saved (refused only when sending, because getaddrinfo reads them).
    @Test(arguments: [
        "127.1", "0x7f000001", "2130706433", "017700000001", "0", "[::127.0.0.1]", "[::169.254.169.254]", "[2002:7f00:1::]",
        "[2002:a9fe:a9fe::]", "[2001:0:7f00:1::]", "[64:ff9b:1::a00:1]", "localhost", "LOCALHOST.", "api.localhost", "127.0.0.1.", "[::ffff:7f00:1]",
        "0251.0376.0251.0376",
    ])
    func everyNumericFormOfAPrivateAddressIsRefusedAtSave(host: String) {
        let policy = DestinationPolicy()
        #expect(policy.problem(forURL: "http://\(host):8080/hook")?.contains("connections to private networks are refused") == true, "\(host)")
        #expect(policy.problem(forHost: host) != nil, "\(host)")
        #expect(DestinationPolicy(allowPrivateNetworks: true).problem(forHost: host) == nil)
    }

    @Test func namesAndPublicAddressesPassTheSaveCheckAndTheAllowListIsHonoured() {
        let policy = DestinationPolicy(allowedHosts: ["mail.internal", "10.0.0.7", "[fd00::25]"])
        for host in ["smtp.example.com", "8.8.8.8", "[2606:4700:4700::1111]", "mail.internal", "MAIL.INTERNAL.", "10.0.0.7", "fd00::25"] {
            #expect(policy.problem(forHost: host) == nil, "\(host)")
        }
        #expect(policy.problem(forHost: "10.0.0.8") != nil)
        #expect(DestinationPolicy.hostSyntaxProblem("127.1 x") != nil, "a resolver would read 127.1 and ignore the rest")
        #expect(DestinationPolicy.hostSyntaxProblem("smtp.example.com/x") != nil && DestinationPolicy.hostSyntaxProblem("a@b") != nil)
        #expect(DestinationPolicy.hostSyntaxProblem("smtp-relay_1.example.com") == nil && DestinationPolicy.hostSyntaxProblem("[::1]") == nil)
    }

    @Test func theConnectCheckRefusesEmbeddedFormsAndReturnsTheAddressesToConnectTo() async throws {
        let strict = DestinationPolicy()
        for host in ["[::127.0.0.1]", "2130706433", "[2002:7f00:1::]", "localhost"] {
            await #expect(throws: DestinationRefusal.self, "\(host)") { try await strict.vet(host: host) }
        }
        #expect(try await strict.vet(host: "8.8.8.8") == [IPAddress("8.8.8.8")!])
        #expect(try await DestinationPolicy(allowedHosts: ["localhost"]).vet(host: "localhost") == nil, "allowed: connect by name")
    }
}
