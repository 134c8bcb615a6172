import ArgumentParser
import Foundation
import Templates

/// `templates import-kratos DIR`: converts Kratos courier templates (Go templates) to the gateway's.
struct TemplatesImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-kratos",
        abstract: "Convert Kratos courier templates (recovery/valid/*.gotmpl, recovery_code/valid/*.gotmpl).",
        discussion: """
            Everything is converted before anything is written: a construct the importer cannot convert \
            (reported as file:line:column) leaves the output untouched. Existing files are refused unless \
            --overwrite is given. Check the result with: recovery-gateway templates check --dir OUTPUT.
            """
    )

    @Argument(
        help: ArgumentHelp("The Kratos template directory (holding recovery/ and recovery_code/).", valueName: "dir")
    )
    var source: String

    @Option(help: ArgumentHelp("The gateway templates directory to write into.", valueName: "dir"))
    var output: String = "templates"

    @Option(help: ArgumentHelp("The locale the imported templates are for.", valueName: "tag"))
    var locale: String = "en"

    @Flag(help: "Replace templates that already exist in the output directory.")
    var overwrite = false

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(source) is not a directory")
        }
        guard (try? LanguageTag(locale)) != nil else {
            throw ValidationError("--locale must be a BCP 47 language tag such as en or de-CH")
        }
    }

    func run() async throws {
        let written: [String]
        do {
            written = try KratosTemplateImporter.importDirectory(
                from: source,
                to: output,
                locale: locale,
                overwrite: overwrite
            )
        } catch {
            throw operationFailed("import-kratos: \(error)")
        }
        for file in written { print("wrote \(file)") }
    }
}
