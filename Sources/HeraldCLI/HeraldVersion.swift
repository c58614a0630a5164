/// Which Herald this is: the release number and the commit it was built from, as `herald --version` prints them
/// and each `herald bench` line records them, so a figure can be tied to the code that produced it.
enum HeraldVersion {
    /// The release number (the OpenAPI document's `info.version` says the same).
    static let number = "0.1.0"

    /// The commit the BuildCommit plugin found at build time: twelve hex digits, `-dirty` when files differed
    /// from it, or `unknown` outside a git checkout.
    static var commit: String { BuildCommit.value }

    /// `0.1.0 (commit 1a2b3c4d5e6f)`.
    static var description: String { "\(number) (commit \(commit))" }
}
