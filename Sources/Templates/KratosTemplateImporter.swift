import Foundation

/// Converts a Kratos courier template directory (`recovery/valid/email.subject.gotmpl`,
/// `email.body.gotmpl`, `email.body.plaintext.gotmpl`, and the same under `recovery_code/valid/`) into
/// recovery-gateway's layout (`recovery/<locale>/subject.mustache`, …). Everything is converted before
/// anything is written, so a refused construct leaves the destination untouched. Kratos's `invalid`
/// templates (sent for unknown addresses) have no counterpart here and are not imported.
public enum KratosTemplateImporter {
    /// Kratos template directory → recovery-gateway template name (the same words, same methods).
    static let templateNames = ["recovery", "recovery_code"]

    /// Kratos file → recovery-gateway file, whether it is HTML, and whether it must exist.
    static let files: [(kratos: String, gateway: String, html: Bool, required: Bool)] = [
        ("email.subject.gotmpl", CatalogLoader.subjectFile, false, true),
        ("email.body.plaintext.gotmpl", CatalogLoader.textFile, false, true),
        ("email.body.gotmpl", CatalogLoader.htmlFile, true, false),
    ]

    /// Imports from `source` into `destination` as locale `locale`; returns the files written, sorted.
    /// Existing files are refused unless `overwrite` is set.
    @discardableResult
    public static func importDirectory(
        from source: String,
        to destination: String,
        locale: String = "en",
        overwrite: Bool = false
    ) throws(TemplateError) -> [String] {
        let tag = try LanguageTag(locale).description
        let tree = try ConfinedDirectory(path: source)
        var converted: [(path: String, text: String)] = []
        for name in templateNames {
            let valid = name + "/valid"
            guard exists(valid, in: tree) else { continue }
            for file in files {
                let relative = valid + "/" + file.kratos
                guard exists(relative, in: tree) else {
                    if file.required {
                        throw TemplateError(.layout, "missing (required for \(name))", file: tree.display(relative))
                    }
                    continue
                }
                let text = try GoToMustache.convert(
                    try tree.read(relative),
                    file: tree.display(relative),
                    html: file.html
                )
                converted.append((destination + "/" + name + "/" + tag + "/" + file.gateway, text))
            }
        }
        guard !converted.isEmpty else {
            throw TemplateError(
                .layout,
                "holds no Kratos recovery templates (expected recovery/valid/ or recovery_code/valid/)",
                file: tree.root
            )
        }
        let manager = FileManager.default
        if !overwrite {
            for item in converted where manager.fileExists(atPath: item.path) {
                throw TemplateError(.io, "already exists; refusing to overwrite", file: item.path)
            }
        }
        for item in converted {
            let directory = (item.path as NSString).deletingLastPathComponent
            do {
                try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try Data(item.text.utf8).write(to: URL(fileURLWithPath: item.path), options: .atomic)
            } catch {
                throw TemplateError(.io, "cannot be written: \(error.localizedDescription)", file: item.path)
            }
        }
        return converted.map(\.path).sorted()
    }

    /// Whether `relative` is there at all (a symlink counts, so one leading out is refused, not skipped).
    private static func exists(_ relative: String, in tree: ConfinedDirectory) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: tree.display(relative))) != nil
    }
}
