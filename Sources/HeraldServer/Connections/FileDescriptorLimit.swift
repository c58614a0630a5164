#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's limit on open file descriptors, which bounds how many connections the server can hold.
enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one (as Go's runtime does for every program: the soft default,
    /// often 1,024, is a relic of `select`, which nothing here uses), then returns the soft limit in force.
    static func raised() -> Int {
        var limits = rlimit()
        guard getrlimit(resource, &limits) == 0 else { return 1024 }
        var target = limits.rlim_max
        #if canImport(Darwin)
            // Darwin refuses a soft limit above OPEN_MAX, even under an unlimited hard one.
            target = min(target, rlim_t(OPEN_MAX))
        #endif
        if limits.rlim_cur < target {
            var raised = limits
            raised.rlim_cur = target
            if setrlimit(resource, &raised) == 0 { limits = raised }
        }
        return limits.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limits.rlim_cur)
    }

    #if canImport(Glibc)
        private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resource = RLIMIT_NOFILE
    #endif
}
