import Foundation
import Herald
import Testing

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
}
