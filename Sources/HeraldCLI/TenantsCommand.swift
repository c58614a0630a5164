import ArgumentParser
import Foundation
import Herald

struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants", abstract: "Create and list tenants.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its API key (shown this once only).")

        @OptionGroup var common: CommonOptions
        @Argument(help: "The tenant's name, e.g. \"Maple Court\".")
        var name: String

        func run() async throws {
            let configuration = try common.load()
            let engine = try await configuration.openEngine(logger: common.logger(configuration))
            let (tenant, key) = try await engine.createTenant(name: name)
            print("tenant:  \(tenant.id) (\(tenant.name))")
            print("api key: \(key.key)")
            print("Keep the key now: Herald stores only its hash and cannot show it again.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let configuration = try common.load()
            let engine = try await configuration.openEngine(logger: common.logger(configuration))
            for tenant in try await engine.tenants() {
                print("\(tenant.id)\t\(tenant.name)\t\(Timestamp.format(tenant.createdAt))")
            }
        }
    }
}
