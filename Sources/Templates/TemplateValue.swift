import Foundation
import JSONValue
import Mustache

/// A JSON value as swift-mustache sees it: members by name, Go-template truthiness in sections (`""`,
/// `0`, `false`, `null`, `{}` are false, as in Kratos's Go templates), whole numbers without a fraction,
/// and the `truthy` transform the Kratos importer uses for `{{ if }}` (a section that does not change scope).
struct TemplateValue: MustacheParent, MustacheCustomRenderable, MustacheTransformable {
    let json: JSONValue

    /// Wraps `json` for Mustache: arrays become a `TemplateList` so sections iterate them.
    static func wrap(_ json: JSONValue) -> Any {
        if case .array(let items) = json { return TemplateList(items: items.map(wrap)) }
        return TemplateValue(json: json)
    }

    func child(named name: String) -> Any? {
        guard case .object(let members) = json, let member = members[name] else { return nil }
        return Self.wrap(member)
    }

    var renderText: String {
        switch json {
        case .null: ""
        case .bool(let value): value ? "true" : "false"
        case .number(let value): Self.format(value)
        case .string(let value): value
        case .array, .object: Self.compactJSON(json)
        }
    }

    var isNull: Bool {
        switch json {
        case .null: true
        case .bool(let value): !value
        case .number(let value): value == 0
        case .string(let value): value.isEmpty
        case .array(let items): items.isEmpty
        case .object(let members): members.isEmpty
        }
    }

    func transform(_ name: String) -> Any? {
        if name == "truthy" { return !isNull }
        switch json {
        case .string(let value): return value.transform(name)
        case .number(let value) where value.rounded() == value && abs(value) < 9.0e15:
            return Int(value).transform(name)
        case .object(let members):
            switch name {
            case "count": return members.count
            case "empty": return members.isEmpty
            default: return nil
            }
        default: return nil
        }
    }

    static func format(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 9.0e15 { return String(Int64(value)) }
        return String(value)
    }

    static func compactJSON(_ json: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(json) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A JSON array as swift-mustache sees it: a sequence sections iterate, with `truthy`, `count`, `empty`,
/// `first` and `last` transforms.
struct TemplateList: MustacheSequence, MustacheCustomRenderable, MustacheTransformable {
    let items: [Any]

    func makeIterator() -> IndexingIterator<[Any]> { items.makeIterator() }

    var renderText: String {
        items.map { ($0 as? any MustacheCustomRenderable)?.renderText ?? "" }.joined(separator: ", ")
    }

    var isNull: Bool { items.isEmpty }

    func transform(_ name: String) -> Any? {
        switch name {
        case "truthy": !items.isEmpty
        case "count": items.count
        case "empty": items.isEmpty
        case "first": items.first
        case "last": items.last
        default: nil
        }
    }
}
