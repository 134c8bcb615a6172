import Templates

/// `templates`: where the email templates are and which locale to fall back to.
public struct TemplateSettings: Sendable, Equatable, Decodable {
    /// The catalog directory (`<dir>/<name>/<locale>/…`), relative to the working directory unless absolute.
    public var dir: String
    /// The locale used when a request's locale and its fallbacks have no template.
    public var defaultLocale: LanguageTag

    /// `templates`, `en`.
    public static let defaults = TemplateSettings(dir: "templates", defaultLocale: try! LanguageTag("en"))

    /// Builds the settings as given.
    public init(dir: String, defaultLocale: LanguageTag) {
        self.dir = dir
        self.defaultLocale = defaultLocale
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.templates)
        dir = try reader.string("dir", default: Self.defaults.dir)
        let locale = try reader.string("default_locale", default: Self.defaults.defaultLocale.description)
        do {
            defaultLocale = try LanguageTag(locale)
        } catch {
            throw reader.error("default_locale", "must be a BCP 47 language tag such as en, de or de-CH")
        }
    }
}
