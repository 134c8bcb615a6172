import JSONValue
import Mustache

/// Loads a templates directory into a `TemplateCatalog`, refusing at load what would otherwise fail at
/// send time: layout `<name>/<locale>/{subject,body.txt,body.html}.mustache`, names `[a-z0-9_-]+`,
/// locale directories that are BCP 47 tags, Mustache syntax, the method each template serves (it outputs
/// `RecoveryCode`: code; otherwise `RecoveryURL`: link; neither: refused), one method per name across
/// locales, and every name present in the default locale. A directory named after a Kratos courier
/// template type (`recovery_valid`, …, see ``CourierTemplateType``) holds that type's template instead:
/// it must output the type's secret variable, if it has one. Symlinks out of the tree are refused.
struct CatalogLoader {
    static let subjectFile = "subject.mustache"
    static let textFile = "body.txt.mustache"
    static let htmlFile = "body.html.mustache"
    static let knownFiles: Set<String> = [subjectFile, textFile, htmlFile]

    let directory: String
    let defaultLocale: String

    func load() throws(TemplateError) -> TemplateCatalog {
        let defaultTag = try LanguageTag(defaultLocale).description
        let tree = try ConfinedDirectory(path: directory)
        var entries: [String: TemplateCatalog.Entry] = [:]
        for name in try tree.list("") {
            switch try tree.kind(of: name) {
            case .file: continue  // a README next to the templates is fine
            case .other: throw TemplateError(.layout, "is neither a file nor a directory", file: tree.display(name))
            case .directory: break
            }
            do {
                try TemplateName.check(name)
            } catch {
                throw TemplateError(.layout, "template directory name must be [a-z0-9_-]+", file: tree.display(name))
            }
            entries[name] = try loadEntry(name, tree: tree, defaultLocale: defaultTag)
        }
        guard !entries.isEmpty else {
            throw TemplateError(.layout, "contains no templates", file: tree.root)
        }
        return TemplateCatalog(defaultLocale: defaultTag, entries: entries)
    }

    private func loadEntry(
        _ name: String,
        tree: ConfinedDirectory,
        defaultLocale: String
    ) throws(TemplateError) -> TemplateCatalog.Entry {
        var locales: [String: TemplateCatalog.Localized] = [:]
        var purpose: (TemplateCatalog.Purpose, String)?
        for directoryName in try tree.list(name) {
            let relative = name + "/" + directoryName
            guard try tree.kind(of: relative) == .directory else {
                throw TemplateError(
                    .layout,
                    "unexpected file; a template holds one directory per locale",
                    file: tree.display(relative)
                )
            }
            let tag: String
            do {
                tag = try LanguageTag(directoryName).description
            } catch {
                throw TemplateError(
                    .layout,
                    "locale directory name is not a BCP 47 language tag",
                    file: tree.display(relative)
                )
            }
            guard locales[tag] == nil else {
                throw TemplateError(.layout, "a second directory for locale \(tag)", file: tree.display(relative))
            }
            let localized = try loadLocale(relative, tree: tree)
            let display = { (file: String) in tree.display(relative + "/" + file) }
            let localePurpose: TemplateCatalog.Purpose
            if let type = CourierTemplateType(rawValue: name) {
                try TemplateProbe.check(localized, courier: type, display: display)
                localePurpose = .courier(type)
            } else {
                localePurpose = .recovery(try TemplateProbe.check(localized, display: display))
            }
            if let (first, firstLocale) = purpose, case .recovery(let firstMethod) = first,
                case .recovery(let localeMethod) = localePurpose, firstMethod != localeMethod
            {
                throw TemplateError(
                    .missingVariable,
                    "serves the \(localeMethod.rawValue) method but locale \(firstLocale) of the same template "
                        + "serves \(firstMethod.rawValue); all locales of a template must serve one method",
                    file: tree.display(relative)
                )
            }
            purpose = purpose ?? (localePurpose, tag)
            locales[tag] = localized
        }
        guard let (resolvedPurpose, _) = purpose else {
            throw TemplateError(.layout, "template has no locale directories", file: tree.display(name))
        }
        guard locales[defaultLocale] != nil else {
            throw TemplateError(
                .layout,
                "template has no directory for the default locale \(defaultLocale)",
                file: tree.display(name)
            )
        }
        return TemplateCatalog.Entry(purpose: resolvedPurpose, locales: locales)
    }

    private func loadLocale(
        _ relative: String,
        tree: ConfinedDirectory
    ) throws(TemplateError) -> TemplateCatalog.Localized {
        let files = try tree.list(relative)
        for file in files where !Self.knownFiles.contains(file) {
            throw TemplateError(
                .layout,
                "unexpected file (a locale holds subject.mustache, body.txt.mustache, body.html.mustache)",
                file: tree.display(relative + "/" + file)
            )
        }
        var usesIdentity = false
        func parse(_ file: String, _ kind: OutputKind) throws(TemplateError) -> MustacheTemplate? {
            guard files.contains(file) else { return nil }
            let path = relative + "/" + file
            let source = try tree.read(path)
            usesIdentity = usesIdentity || source.contains("Identity")
            return try MustacheTemplate.parse(source, kind: kind, file: tree.display(path))
        }
        guard let subject = try parse(Self.subjectFile, .text) else {
            throw TemplateError(.layout, "missing \(Self.subjectFile)", file: tree.display(relative))
        }
        guard let text = try parse(Self.textFile, .text) else {
            throw TemplateError(.layout, "missing \(Self.textFile)", file: tree.display(relative))
        }
        let html = try parse(Self.htmlFile, .html)
        return TemplateCatalog.Localized(subject: subject, text: text, html: html, usesIdentity: usesIdentity)
    }
}

/// Finds out, by rendering with marker values, which method a template serves and whether each part
/// that must carry the link or code does: the text body decides (the code method when it outputs
/// `RecoveryCode`, otherwise the link method when it outputs `RecoveryURL`), the HTML body must output
/// the same variable, and the subject must not come out empty. The probe data has empty traits and
/// transient payload, so a link hidden behind a data-dependent section is reported too.
enum TemplateProbe {
    static let url = "https://recovery-gateway.invalid/probe/link-7f3a9c"
    static let code = "probe-code-51d2e8"

    static func check(
        _ template: TemplateCatalog.Localized,
        display: (String) -> String
    ) throws(TemplateError) -> RecoveryMethod {
        let data = TemplateData(
            to: "probe@recovery-gateway.invalid",
            recoveryURL: url,
            recoveryCode: code,
            identityID: "00000000-0000-0000-0000-000000000000",
            expiresInMinutes: 60
        )
        let context = TemplateCatalog.context(data, locale: "en")
        let text = template.text.render(context)
        let method: RecoveryMethod
        if text.contains(code) {
            method = .code
        } else if text.contains(url) {
            method = .link
        } else {
            throw TemplateError(
                .missingVariable,
                "outputs neither RecoveryURL (link method) nor RecoveryCode (code method), "
                    + "so it cannot deliver a recovery (checked with empty traits and transient payload)",
                file: display(CatalogLoader.textFile)
            )
        }
        let marker = method == .code ? code : url
        if let html = template.html, !html.render(context).contains(marker) {
            throw TemplateError(
                .missingVariable,
                "the text body serves the \(method.rawValue) method but the HTML body never outputs "
                    + method.requiredVariable,
                file: display(CatalogLoader.htmlFile)
            )
        }
        try checkSubject(template, context, display: display)
        return method
    }

    /// Checks a Kratos courier template the same way: with marker values in every secret member of
    /// `type`, the text body and the HTML body must output the secret (if the type has one), and the
    /// subject must not come out empty.
    static func check(
        _ template: TemplateCatalog.Localized,
        courier type: CourierTemplateType,
        display: (String) -> String
    ) throws(TemplateError) {
        var data: [String: JSONValue] = [
            "to": .string("probe@recovery-gateway.invalid"),
            "request_url": .string("https://recovery-gateway.invalid/probe/request"),
            "transient_payload": .object([:]),
            "expires_in_minutes": .number(60),
        ]
        for key in type.secretKeys { data[key] = .string(key.hasSuffix("_url") ? url : code) }
        let context = TemplateCatalog.courierContext(.object(data), locale: "en")
        if let key = type.secretKey, let variable = type.secretVariable, let marker = data[key]?.stringValue {
            if !template.text.render(context).contains(marker) {
                throw TemplateError(
                    .missingVariable,
                    "a \(type.rawValue) template must output \(variable) (checked with empty traits and "
                        + "transient payload)",
                    file: display(CatalogLoader.textFile)
                )
            }
            if let html = template.html, !html.render(context).contains(marker) {
                throw TemplateError(
                    .missingVariable,
                    "the HTML body of a \(type.rawValue) template never outputs \(variable)",
                    file: display(CatalogLoader.htmlFile)
                )
            }
        }
        try checkSubject(template, context, display: display)
    }

    private static func checkSubject(
        _ template: TemplateCatalog.Localized,
        _ context: [String: Any],
        display: (String) -> String
    ) throws(TemplateError) {
        if SubjectLine.clean(template.subject.render(context)).isEmpty {
            throw TemplateError(.missingVariable, "renders an empty subject", file: display(CatalogLoader.subjectFile))
        }
    }
}
