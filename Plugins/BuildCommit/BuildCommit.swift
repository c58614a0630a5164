import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` for the target: the commit the package's checkout is at (with `-dirty` when the
/// files the binary is built from, `Package.swift`, `Sources` and `Plugins`, differ from it), or `unknown` when
/// git or the repository is missing. So `herald --version` and each `herald bench` line name the code they come
/// from, from a fresh clone with plain `swift build`.
///
/// A build command whose inputs are git's record of HEAD (`.git/HEAD`, `.git/logs/HEAD`, `.git/index`) and the
/// package's sources, so it runs again after a commit, a checkout or an edit; SwiftPM does not rerun a prebuild
/// command on every build, so one would keep naming an old commit. The file is rewritten only when its text
/// changes, so an unchanged commit does not recompile the target.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated/BuildCommit.swift")
        let scratch = context.pluginWorkDirectoryURL.appending(path: "BuildCommit.swift.next")
        let gitRecords = [".git/HEAD", ".git/logs/HEAD", ".git/index"].map { root.appending(path: $0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        let sources = context.package.targets.flatMap { ($0 as? SourceModuleTarget)?.sourceFiles.map(\.url) ?? [] }
        let script = """
            root="$1"; output="$2"; next="$3"
            mkdir -p "$(dirname "$output")"
            commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) || commit=""
            case "$commit" in
                ""|*[!0-9a-f]*) commit=unknown ;;
                *) git -C "$root" diff-index --quiet HEAD -- Package.swift Sources Plugins 2>/dev/null || commit="$commit-dirty" ;;
            esac
            {
                echo "// Written by the BuildCommit plugin when the commit or the sources change; not checked in."
                echo ""
                echo "/// The commit this binary was built from (\\`unknown\\` when it was built outside a git checkout)."
                echo "enum BuildCommit {"
                echo "    static let value = \\"$commit\\""
                echo "}"
            } > "$next"
            if cmp -s "$next" "$output"; then rm -f "$next"; else mv "$next" "$output"; fi
            """
        return [
            .buildCommand(
                displayName: "Recording the commit \(target.name) is built from",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "build-commit", root.path, output.path, scratch.path],
                inputFiles: gitRecords + sources + [root.appending(path: "Package.swift")],
                outputFiles: [output])
        ]
    }
}
