import ArgumentParser
import GatewayConfiguration
import Templates

/// `recovery-gateway templates`: check, preview and import email templates.
struct TemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates",
        abstract: "Check, preview and import the email templates.",
        subcommands: [TemplatesCheckCommand.self, TemplatesPreviewCommand.self, TemplatesImportCommand.self]
    )
}

/// `--config` plus `--dir`: the template catalog exactly as `serve` loads it.
struct CatalogOptions: ParsableArguments {
    @OptionGroup var options: ConfigOptions

    @Option(
        help: ArgumentHelp("The templates directory (overrides templates.dir of the configuration).", valueName: "dir")
    )
    var dir: String?

    /// The configuration, with `--dir` applied (exit 1 on a bad configuration, as every command).
    func load() throws -> GatewayConfiguration {
        try options.load(flags: dir.map { ["templates.dir": $0] } ?? [:])
    }

    /// The catalog of `configuration`, or exit 1 with `file:line:col: problem`.
    func catalog(_ configuration: GatewayConfiguration) throws -> TemplateCatalog {
        do {
            return try TemplateCatalog.load(
                directory: configuration.templates.dir,
                defaultLocale: configuration.templates.defaultLocale.description
            )
        } catch {
            throw operationFailed("templates: \(error)")
        }
    }
}

/// `templates check`: loads the catalog as `serve` does and lists what it found.
struct TemplatesCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Load the templates as serve would; list each template's method (or courier type) and locales, or the first error.",
        discussion: "An error is printed as file:line:column: problem, with exit 1."
    )

    @OptionGroup var catalogOptions: CatalogOptions

    func run() async throws {
        let configuration = try catalogOptions.load()
        let catalog = try catalogOptions.catalog(configuration)
        let courier = catalog.courierTypes.isEmpty ? "" : " and \(catalog.courierTypes.count) courier templates"
        print(
            "ok: \(catalog.names.count) templates\(courier) in \(configuration.templates.dir) "
                + "(default locale \(catalog.defaultLocale))"
        )
        for name in catalog.names {
            let method = catalog.method(of: name)?.rawValue ?? "?"
            print("\(name) (\(method)): \(catalog.locales(of: name).joined(separator: ", "))")
        }
        // The templates of Kratos's courier types (POST /v1/courier/kratos), by type.
        for type in catalog.courierTypes {
            print("\(type.rawValue) (courier): \(catalog.locales(of: type.rawValue).joined(separator: ", "))")
        }
    }
}
