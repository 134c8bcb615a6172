import Foundation

/// A parser of Prometheus's text exposition format (version 0.0.4) strict enough to catch a broken
/// page: every sample belongs to a family declared by `# TYPE`, label values are quoted with the
/// format's escapes, values are numbers. Throws on anything else.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var problem: String
        var description: String { "line \(line): \(problem)" }
    }

    var types: [String: String] = [:]
    var help: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            if line.isEmpty { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                guard parts.count == 2, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1])
                else { throw ParseError(line: number, problem: "bad TYPE: \(line)") }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                guard let space = rest.firstIndex(of: " ") else { throw ParseError(line: number, problem: "bad HELP") }
                help[String(rest[..<space])] = String(rest[rest.index(after: space)...])
            } else if line.hasPrefix("#") {
                continue
            } else {
                let sample = try Self.sample(Substring(line), line: number)
                guard types[Self.family(of: sample.name, in: types)] != nil else {
                    throw ParseError(line: number, problem: "sample \(sample.name) before its # TYPE")
                }
                samples.append(sample)
            }
        }
    }

    /// The family a sample name belongs to (`x_bucket`, `x_sum`, `x_count` belong to histogram `x`).
    static func family(of name: String, in types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return name
    }

    private static func sample(_ line: Substring, line number: Int) throws -> Sample {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard name.range(of: #"^[a-zA-Z_:][a-zA-Z0-9_:]*$"#, options: .regularExpression) != nil else {
            throw ParseError(line: number, problem: "bad metric name \(name)")
        }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw ParseError(line: number, problem: "no =") }
                let label = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw ParseError(line: number, problem: "unquoted value") }
                rest = rest.dropFirst()
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        switch rest.first {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw ParseError(line: number, problem: "bad escape")
                        }
                        rest = rest.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw ParseError(line: number, problem: "unterminated value") }
                rest = rest.dropFirst()
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard (1...2).contains(fields.count), let value = Self.number(fields[0]) else {
            throw ParseError(line: number, problem: "bad value in \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    /// The value of the one sample `name` with exactly these labels (nil if none).
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The sum over the samples `name` whose labels include `labels`.
    func sum(_ name: String, where labels: [String: String] = [:]) -> Double {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value }
        }
        .reduce(0) { $0 + $1.value }
    }
}
