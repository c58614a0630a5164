import AsyncHTTPClient
import Foundation
import NIOCore

extension OutboundHTTPClient {
    /// Fetches a file with `GET`, through the same destination policy, pinned address and no-redirect rule as
    /// every other request, keeping at most `maxBytes` of it: a `Content-Length` over the limit is refused
    /// before the body is read, and a body that grows past it stops being read. The timeout covers the whole
    /// download, body included (the client's own deadline ends with the answer's head), so a server that
    /// drips its body cannot hold the trigger waiting for it. Never throws.
    public func download(_ url: URL, maxBytes: Int) async -> OutboundDownload {
        let timeout = timeoutSeconds
        return await withTaskGroup(of: OutboundDownload?.self) { group in
            group.addTask { await self.fetch(url, maxBytes: maxBytes) }
            group.addTask {
                try? await Task.sleep(for: Seconds(clamping: timeout).duration)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failed("no answer within \(Self.seconds(timeout)) s")
        }
    }

    private func fetch(_ url: URL, maxBytes: Int) async -> OutboundDownload {
        if let problem = DestinationPolicy.syntaxProblem(url.absoluteString) { return .refused(problem) }
        let target: Target
        switch await Self.target(for: url, policy: policy) {
        case .success(let vetted): target = vetted
        case .failure(let refusal): return .refused(refusal.reason)
        }
        var request = HTTPClientRequest(url: target.url)
        request.method = .GET
        if let host = target.hostHeader { request.headers.add(name: "Host", value: host) }
        request.headers.add(name: "User-Agent", value: userAgent)
        let client: HTTPClient
        do {
            client = try Self.client(trusting: trustedCertificatesPEM)
        } catch {
            return .failed("cannot read the trusted certificates: \(error)")
        }
        do {
            let response = try await client.execute(request, timeout: Seconds(clamping: timeoutSeconds).timeAmount)
            guard (200..<300).contains(response.status.code) else { return .status(Int(response.status.code)) }
            if let declared = response.headers.first(name: "Content-Length").flatMap({ Int($0) }), declared > maxBytes {
                return .tooLarge(limit: maxBytes)
            }
            var body = Data()
            for try await part in response.body {
                guard body.count + part.readableBytes <= maxBytes else { return .tooLarge(limit: maxBytes) }
                part.withUnsafeReadableBytes { body.append(contentsOf: $0) }
            }
            return .downloaded(body, contentType: response.headers.first(name: "Content-Type"))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failed("no answer within \(Self.seconds(timeoutSeconds)) s")
        } catch {
            return .failed("\(error)")
        }
    }
}
