import JSONValue

extension TemplateCatalog {
    /// Whether the catalog has a template for the Kratos courier template type `type`.
    public func hasTemplate(for type: CourierTemplateType) -> Bool {
        entries[type.rawValue]?.purpose == .courier(type)
    }

    /// Renders the template of the courier type `type` in the best locale for `locale` (its fallback
    /// chain, then the default locale) over Kratos's `template_data` document; `nil` when the catalog has
    /// no template for `type` (the caller then sends what Kratos rendered). The rendered text must carry
    /// the type's secret, as for ``render(_:locale:method:data:)``.
    public func renderCourier(
        _ type: CourierTemplateType,
        locale: String?,
        templateData: JSONValue
    ) throws(TemplateError) -> RenderedEmail? {
        guard let entry = entries[type.rawValue], entry.purpose == .courier(type) else { return nil }
        let tag = try locale.map { (text) throws(TemplateError) in try LanguageTag(text) }
        let (template, used) = try localized(entry, name: type.rawValue, tag: tag)
        var secret: (value: String, variable: String)?
        if let key = type.secretKey, let variable = type.secretVariable {
            guard let value = templateData[key]?.stringValue, !value.isEmpty else {
                throw TemplateError(.methodMismatch, "a \(type.rawValue) message needs `\(key)` in its template data")
            }
            secret = (value, variable)
        }
        return try Self.email(
            template,
            Self.courierContext(templateData, locale: used),
            name: type.rawValue,
            locale: used,
            secret: secret
        )
    }

    /// The Mustache context for Kratos's `template_data`: each member under Kratos's Go field name
    /// (`recovery_url` → `RecoveryURL`, `identity` → `Identity`, …), plus `Locale`.
    static func courierContext(_ templateData: JSONValue, locale: String) -> [String: Any] {
        var context: [String: Any] = ["Locale": TemplateValue(json: .string(locale))]
        if case .object(let members) = templateData {
            for (key, value) in members {
                if let name = CourierTemplateType.variableName(key) { context[name] = TemplateValue.wrap(value) }
            }
        }
        return context
    }
}
