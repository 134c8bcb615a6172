/// The gateway's metrics: each one's Prometheus name, help text and (for histograms) buckets,
/// shared by the code that records them and the exporter that describes them. No label of any
/// of them carries an address, a link, a code, a key or an id: only routes, methods, statuses,
/// outcomes, classes and operations, all from small closed sets.
public enum GatewayMetric: String, Sendable, CaseIterable {
    /// Labels `method`, `route` (the route pattern, or `unmatched`), `status`.
    case httpRequests = "recovery_gateway_http_requests_total"
    /// Labels `method`, `route`, `status`.
    case httpRequestDuration = "recovery_gateway_http_request_duration_seconds"
    /// Labels `outcome` (sent, retry, failed, lease_lost), `error_class` (none, transient, permanent, configuration).
    case deliveryAttempts = "recovery_gateway_delivery_attempts_total"
    /// Labels `outcome` (sent, failed), `failure` (none, rejected, expired, identity_gone, attempts_exhausted);
    /// a delivery stopped by its batch's cancel never reached a worker and is not counted here.
    case deliveriesFinished = "recovery_gateway_deliveries_finished_total"
    /// Label `result` (ok, transient, permanent, configuration).
    case smtpSendDuration = "recovery_gateway_smtp_send_duration_seconds"
    /// Labels `operation` (get_identity, find_identities, create_recovery_link, create_recovery_code), `result`.
    case kratosRequestDuration = "recovery_gateway_kratos_request_duration_seconds"
    /// Labels `template_type` (Kratos's ten email types, or `unknown`), `result` (accepted, duplicate, refused).
    case courierMessages = "recovery_gateway_courier_messages_total"
    /// Label `outcome` (accepted, not_found, no_recovery_address, recipient_not_allowed, cooldown, invalid).
    case batchItems = "recovery_gateway_batch_items_total"
    /// No labels.
    case idempotentReplays = "recovery_gateway_idempotent_replays_total"
    /// Label `state` (waiting, sending).
    case queueDeliveries = "recovery_gateway_queue_deliveries"
    /// No labels.
    case queueOldestAge = "recovery_gateway_queue_oldest_age_seconds"
    /// No labels.
    case auditHeadSequence = "recovery_gateway_audit_head_sequence"
    /// Label `version`; always 1.
    case buildInfo = "recovery_gateway_build_info"
    /// Label `found_by` (checkpointer, sequencer).
    case auditBreaks = "recovery_gateway_audit_breaks_total"
    /// Label `phase` (``AcceptPhase``: read_parse, idempotency_read, rate_limit, kratos_lookup,
    /// group_commit_wait, commit_flush, answer).
    case acceptPhaseDuration = "recovery_gateway_accept_phase_seconds"
    /// Label `phase` (``DeliveryPhase``: lease_wait, kratos, render, smtp, outcome_commit).
    case deliveryPhaseDuration = "recovery_gateway_delivery_phase_seconds"

    /// The `# HELP` line's text.
    public var help: String {
        switch self {
        case .httpRequests: "HTTP requests answered, by method, route pattern and status."
        case .httpRequestDuration: "Time to answer an HTTP request, by method, route pattern and status."
        case .deliveryAttempts: "Delivery attempts made, by outcome and error class."
        case .deliveriesFinished: "Deliveries that reached a final state, by outcome and failure."
        case .smtpSendDuration: "Time to hand one message to the SMTP server, by result."
        case .kratosRequestDuration: "Time of one call to Kratos's admin API, by operation and result."
        case .courierMessages: "Messages posted by Kratos's HTTP courier, by template type and result."
        case .batchItems: "Items of batches that got their outcome from the batch runner, by outcome."
        case .idempotentReplays: "Requests answered with the stored answer of an earlier request with the same key."
        case .queueDeliveries: "Deliveries in the queue: waiting (queued or retrying) and sending (leased)."
        case .queueOldestAge: "Age of the oldest waiting delivery (0 when none waits)."
        case .auditHeadSequence: "Sequence number of the last event in the audit chain."
        case .buildInfo: "The gateway's version (label version); always 1."
        case .auditBreaks: "Audit events found not to verify (rewritten, deleted or reordered), by who found them."
        case .acceptPhaseDuration: "Time of one phase of accepting a recovery email, by phase."
        case .deliveryPhaseDuration: "Time of one phase of a delivery attempt, by phase."
        }
    }

    /// The histogram's buckets (nil for counters and gauges).
    public var buckets: [Duration]? {
        switch self {
        case .httpRequestDuration, .kratosRequestDuration:
            [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            ]
        case .smtpSendDuration:
            [
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
                .seconds(60),
            ]
        case .acceptPhaseDuration, .deliveryPhaseDuration:
            // Fine below 10 ms, where an accept's phases are, for p50/p99 read off the buckets.
            [
                .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
                .microseconds(750), .milliseconds(1), .microseconds(1500), .milliseconds(2), .milliseconds(3),
                .milliseconds(5), .microseconds(7500), .milliseconds(10), .milliseconds(15), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .milliseconds(2500), .seconds(5), .seconds(10),
            ]
        default: nil
        }
    }
}

/// The phases of accepting a recovery email, each the label `phase` of
/// `recovery_gateway_accept_phase_seconds`. Each is timed where it happens, for every accept that
/// passes through it (docs/operations.md says which).
public enum AcceptPhase: Int, Sendable, CaseIterable {
    /// From the request's arrival at the router (its middleware, the API key's check) until its body
    /// is read, parsed and hashed.
    case readParse
    /// Looking up an earlier answer under the request's idempotency key.
    case idempotencyRead
    /// Taking a token of the key's rate limit.
    case rateLimit
    /// Resolving the identity and its recovery address at Kratos.
    case kratosLookup
    /// From the delivery's write being queued until its group commit's transaction begins.
    case groupCommitWait
    /// That transaction: its statements and its durable commit (the flush).
    case commitFlush
    /// Rendering the answer (status, headers, the delivery's view as JSON).
    case answer

    /// The label's value.
    public var label: String {
        switch self {
        case .readParse: "read_parse"
        case .idempotencyRead: "idempotency_read"
        case .rateLimit: "rate_limit"
        case .kratosLookup: "kratos_lookup"
        case .groupCommitWait: "group_commit_wait"
        case .commitFlush: "commit_flush"
        case .answer: "answer"
        }
    }
}

/// The phases of one delivery attempt, each the label `phase` of
/// `recovery_gateway_delivery_phase_seconds`.
public enum DeliveryPhase: Int, Sendable, CaseIterable {
    /// From when the delivery was due (a first attempt: when its accept began, its `created_at`)
    /// until a worker leased it.
    case leaseWait
    /// The attempt's calls to Kratos (the identity, if the template prints it; the link or code).
    case kratos
    /// Rendering the template and composing the message.
    case render
    /// Handing the message to the SMTP server, until its reply.
    case smtp
    /// Recording the outcome with its audit event (its group commit's wait and flush included).
    case outcomeCommit

    /// The label's value.
    public var label: String {
        switch self {
        case .leaseWait: "lease_wait"
        case .kratos: "kratos"
        case .render: "render"
        case .smtp: "smtp"
        case .outcomeCommit: "outcome_commit"
        }
    }
}
