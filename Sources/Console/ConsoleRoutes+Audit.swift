import Audit
import Domain
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import Logging
import Server
import Store

/// The auditor's view: the API's filters and cursor paging, chain verification, and export.
extension ConsoleRoutes {
    /// The filters, in the form's order: (parameter, label, placeholder).
    static let auditFilters = [
        ("identity_id", "Identity id", "UUID"), ("actor", "Actor (key name)", "alice@support"),
        ("action", "Action", "email.requested"), ("since", "Since", "2026-01-31T00:00:00Z"),
        ("until", "Until", "2026-02-01T00:00:00Z"),
    ]

    func auditPage(_ request: Request, context: GatewayRequestContext, verify: Bool = false) async throws -> Response {
        let session = try session(request)
        let parameters = request.uri.queryParameters
        var page = chrome(verify ? "Audit log: verification" : "Audit log", session: session)
        var error: (field: String, message: String)?
        var events: [[String: Any]] = []
        var next: String?
        do {
            let query = try AuditRoutes.query(QueryParameters(parameters))
            let found: Page<AuditEvent>
            do {
                found = try await store.auditEvents(query)
            } catch StoreError.invalidQuery {
                throw Problem.badParameter("cursor", "is not a cursor this list gave out")
            } catch {
                throw context.storeUnavailable(error)
            }
            events = found.items.map(AuditEventView.init).map {
                [
                    "seq": $0.seq, "at": $0.at, "actor": $0.actor, "sourceIP": $0.sourceIP ?? "", "action": $0.action,
                    "identityID": $0.identityID ?? "", "recipientMasked": $0.recipientMasked ?? "",
                    "outcome": $0.outcome ?? "",
                    "details": $0.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                        separator: "; "
                    ),
                ]
            }
            next = found.nextCursor.map { Self.queryString(parameters, cursor: $0) }
        } catch let problem as Problem where problem.field != nil {
            error = (problem.field ?? "", problem.detail)
        }
        page["filters"] = Self.auditFilters.map { name, label, placeholder in
            var filter: [String: Any] = [
                "name": name, "label": label, "placeholder": placeholder,
                "value": parameters.get(name).map { String($0) } ?? "",
            ]
            if error?.field == name { filter["error"] = error?.message }
            return filter
        }
        if let error, !Self.auditFilters.contains(where: { $0.0 == error.field }) { page["notice"] = error.message }
        page["events"] = events
        page["nextQuery"] = next
        page["filterQuery"] = Self.filterPairs(parameters).map { "&" + $0 }.joined()
        if verify {
            let view = try await AuditRoutes.verify(auditVerifier, caller: session.name, context: context)
            let unsequenced = view.unsequenced.map { $0 > 0 ? " \($0) events wait to be sequenced." : "" } ?? ""
            let text =
                view.ok
                ? "The chain verifies: \(view.events ?? 0) events, head \(view.head ?? "—").\(unsequenced)"
                : "The chain is broken at seq \(view.firstBrokenSeq.map(String.init) ?? "—"): \(view.reason ?? "")."
            page["verification"] = ["ok": view.ok, "text": text]
        }
        return ConsolePages.page("audit", page)
    }

    /// The whole filtered log as CSV or NDJSON (the API's export), as a download.
    func auditExport(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let format = parameters.get("format").flatMap({ AuditExportFormat(rawValue: String($0)) }) else {
            throw ConsoleError(.badRequest, "format must be csv or ndjson.")
        }
        let query = try AuditRoutes.query(QueryParameters(parameters))
        var response = AuditRoutes.export(query, format: format, store: store, logger: context.logger)
        response.headers[.contentDisposition] = "attachment; filename=\"audit-events.\(format.rawValue)\""
        return response
    }

    /// The filters and limit of `parameters` with `cursor`, as a query string (the next page's).
    static func queryString(_ parameters: Parameters, cursor: String) -> String {
        let limit = parameters.get("limit").map { ["limit=\(percentEncoded(String($0)))"] } ?? []
        return (filterPairs(parameters) + limit + ["cursor=\(percentEncoded(cursor))"]).joined(separator: "&")
    }

    /// The filters given in `parameters`, each as `name=value` (percent-encoded).
    static func filterPairs(_ parameters: Parameters) -> [String] {
        auditFilters.compactMap { name, _, _ in
            parameters.get(name).flatMap { $0.isEmpty ? nil : "\(name)=\(percentEncoded(String($0)))" }
        }
    }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
