import Foundation
import Testing

@testable import Herald

@Suite struct ProcessMemoryTests {
    @Test("glibc's malloc arenas are capped at two before main, unless MALLOC_ARENA_MAX says otherwise")
    func arenasAreCapped() {
        #if canImport(Glibc)
        if ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil {
            #expect(ProcessMemory.arenaCap == 2)
        } else {
            #expect(ProcessMemory.arenaCap == nil, "an operator's MALLOC_ARENA_MAX is left to glibc")
        }
        #endif
    }
}
