import Foundation
import PackagePlugin

/// Compiles every file under the target's `Resources` folder into the binary, so the single `herald` binary needs no
/// files beside it while the API description, scripts, styles and page templates stay real files that editors,
/// linters and diffs read as what they are.
///
/// SwiftPM's own `.embedInCode` writes each byte as an integer literal of one `[UInt8]` array, which took the compiler
/// seven minutes for the 400 KB of these files; one base64 string literal per file compiles in well under a second
/// and is decoded once, on first use. Each target gets one `EmbeddedFiles` value named after it
/// (`EmbeddedFiles.herald`, `EmbeddedFiles.heraldServer`), so two targets' files never meet in one name. A build command whose inputs are the files, so an edit
/// rebuilds the target and nothing else does; the file list is read each time the build is planned.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let folder = module.directoryURL.appending(path: "Resources")
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated/EmbeddedFiles+\(target.name).swift")
        // `HeraldServer` → `heraldServer`; the engine's own target declares `EmbeddedFiles`, the others import it.
        let property = target.name.prefix(1).lowercased() + target.name.dropFirst()
        let imports = target.name == "Herald" ? "" : "import Herald"
        let files = Self.files(under: folder)
        let names = files.map { String($0.path.dropFirst(folder.path.count + 1)) }
        let script = """
            output="$1"; folder="$2"; property="$3"; imports="$4"; shift 4
            mkdir -p "$(dirname "$output")"
            next="$output.next"
            {
                echo "// Written by the EmbedResources plugin from the target's Resources folder; not checked in."
                echo ""
                [ -n "$imports" ] && { echo "$imports"; echo ""; }
                echo "extension EmbeddedFiles {"
                echo "    /// The files under this target's Resources folder, by their path there."
                echo "    static let $property = EmbeddedFiles(encoded: ["
                [ "$#" -eq 0 ] && echo "        :"
                for name in "$@"; do
                    case "$name" in *[\\\\\\"]*) echo "a resource's name has a quote or backslash: $name" >&2; exit 1 ;; esac
                    printf '        "%s": "' "$name"
                    base64 < "$folder/$name" | tr -d '\\n'
                    echo '",'
                done
                echo "    ])"
                echo "}"
            } > "$next" || exit 1
            if cmp -s "$next" "$output"; then rm -f "$next"; else mv "$next" "$output"; fi
            """
        return [
            .buildCommand(
                displayName: "Embedding \(names.count) resource files in \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "embed-resources", output.path, folder.path, property, imports] + names,
                inputFiles: files,
                outputFiles: [output])
        ]
    }

    /// Every regular file under `folder`, sorted, hidden files left out.
    static func files(under folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        var found: [URL] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            found.append(url.standardizedFileURL)
        }
        return found.sorted { $0.path < $1.path }
    }
}
