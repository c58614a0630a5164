import Foundation
import Synchronization

/// With `HERALD_TEST_CONFORMANCE_LOG=<file>`, one tab-separated line per exchange the OpenAPI conformance check saw
/// (method, operation or `-` when the path is not an API operation, status, number of violations), appended to the
/// file: how many exchanges a run checked and which operations the test suite reaches. Without the variable, nothing.
enum ConformanceLog {
    private static let file: Mutex<FileHandle?> = Mutex(Self.open())

    private static func open() -> FileHandle? {
        guard let path = ProcessInfo.processInfo.environment["HERALD_TEST_CONFORMANCE_LOG"], !path.isEmpty else { return nil }
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = FileHandle(forWritingAtPath: path)
        _ = try? handle?.seekToEnd()
        return handle
    }

    static func record(_ exchange: OpenAPIConformance.Exchange, operation: String?, violations: [OpenAPIConformance.Violation]) {
        file.withLock { handle in
            guard let handle else { return }
            var line = "\(exchange.method)\t\(operation ?? "-")\t\(exchange.status)\t\(violations.count)\n"
            for violation in violations { line += "!\t\(violation)\n" }
            try? handle.write(contentsOf: Data(line.utf8))
        }
    }
}
