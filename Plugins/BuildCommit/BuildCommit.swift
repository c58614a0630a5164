import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` before every build: the commit the package's checkout is at (with `-dirty` when
/// the files the binary is built from, `Package.swift`, `Sources` and `Plugins`, differ from it), or `unknown`
/// when git or the repository is missing. So `herald --version` and each `herald bench` line name the code they
/// come from, from a fresh clone with plain `swift build`.
///
/// A prebuild command, because only those run on every build (a commit changes no source file). The file is
/// rewritten only when its text changes, so an unchanged commit does not recompile the target.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let scratch = context.pluginWorkDirectoryURL.appending(path: "BuildCommit.swift.next")
        let script = """
            root="$1"; output="$2"; next="$3"
            mkdir -p "$output"
            commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null) || commit=""
            case "$commit" in
                ""|*[!0-9a-f]*) commit=unknown ;;
                *) git -C "$root" diff-index --quiet HEAD -- Package.swift Sources Plugins 2>/dev/null || commit="$commit-dirty" ;;
            esac
            {
                echo "// Written by the BuildCommit plugin before each build; not checked in."
                echo ""
                echo "/// The commit this binary was built from (\\`unknown\\` when it was built outside a git checkout)."
                echo "enum BuildCommit {"
                echo "    static let value = \\"$commit\\""
                echo "}"
            } > "$next"
            if cmp -s "$next" "$output/BuildCommit.swift"; then rm -f "$next"; else mv "$next" "$output/BuildCommit.swift"; fi
            """
        return [
            .prebuildCommand(
                displayName: "Recording the commit \(target.name) is built from",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "build-commit", context.package.directoryURL.path, output.path, scratch.path],
                outputFilesDirectory: output)
        ]
    }
}
