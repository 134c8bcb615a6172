--
-- PostgreSQL database dump
--

\restrict 8MU0VNVVFRQy45McIdFDCK834Q2Q97oTZhpQdyQ9qcHgxNHqw7yBMrrmVVtfzdm

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit_events_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$;


--
-- Name: recovery_batch_accepts(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.recovery_batch_accepts() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    batch_status text;
BEGIN
    IF NEW.idempotency_key ~ '^batch:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:' THEN
        SELECT status INTO batch_status FROM recovery_batches
        WHERE id = CAST(substr(NEW.idempotency_key, 7, 36) AS uuid) AND api_key_id = NEW.api_key_id
        FOR SHARE;
        IF batch_status IS NOT NULL AND batch_status <> 'running' THEN
            RAISE EXCEPTION 'recovery_batch_not_running';
        END IF;
    END IF;
    RETURN NEW;
END
$$;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: audit_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_events (
    seq bigint NOT NULL,
    id uuid NOT NULL,
    at_us bigint NOT NULL,
    actor text NOT NULL,
    source_ip text,
    request_id text,
    action text NOT NULL,
    delivery_id uuid,
    identity_id uuid,
    recipient_hash text,
    recipient_masked text,
    outcome text,
    details text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    key_id text
);


--
-- Name: audit_head; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_head (
    singleton boolean DEFAULT true NOT NULL,
    seq bigint NOT NULL,
    hash text NOT NULL,
    key_id text,
    CONSTRAINT audit_head_singleton_check CHECK (singleton)
);


--
-- Name: batch_items; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.batch_items (
    batch_id uuid NOT NULL,
    "position" bigint NOT NULL,
    item text,
    outcome text NOT NULL,
    reason text,
    identity_id uuid,
    recipient_masked text,
    delivery_id uuid,
    CONSTRAINT batch_items_outcome_check CHECK ((outcome = ANY (ARRAY['pending'::text, 'accepted'::text, 'not_found'::text, 'no_recovery_address'::text, 'recipient_not_allowed'::text, 'cooldown'::text, 'invalid'::text, 'cancelled'::text])))
);


--
-- Name: deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deliveries (
    id uuid NOT NULL,
    status text NOT NULL,
    failure text,
    identity_id uuid,
    recipient text NOT NULL,
    method text,
    template text,
    locale text,
    expires_in text NOT NULL,
    deadline_us bigint NOT NULL,
    reason text,
    transient_payload text,
    message_id text NOT NULL,
    actor text NOT NULL,
    request_id text,
    api_key_id text NOT NULL,
    idempotency_key text NOT NULL,
    attempts bigint DEFAULT 0 NOT NULL,
    next_attempt_at_us bigint,
    lease_expires_at_us bigint,
    last_error_class text,
    last_error text,
    smtp_reply text,
    created_at_us bigint NOT NULL,
    sent_at_us bigint,
    source text DEFAULT 'admin_api'::text NOT NULL,
    template_type text,
    sealed_payload bytea,
    CONSTRAINT deliveries_failure_check CHECK ((failure = ANY (ARRAY['rejected'::text, 'expired'::text, 'identity_gone'::text, 'attempts_exhausted'::text, 'cancelled'::text]))),
    CONSTRAINT deliveries_method_check CHECK ((method = ANY (ARRAY['link'::text, 'code'::text]))),
    CONSTRAINT deliveries_source_check CHECK ((source = ANY (ARRAY['admin_api'::text, 'kratos_courier'::text]))),
    CONSTRAINT deliveries_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sending'::text, 'retrying'::text, 'sent'::text, 'failed'::text])))
);


--
-- Name: idempotency_records; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_records (
    api_key_id text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    response_status integer NOT NULL,
    response_body bytea NOT NULL,
    delivery_id uuid NOT NULL,
    expires_at_us bigint NOT NULL
);


--
-- Name: recovery_batches; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.recovery_batches (
    id uuid NOT NULL,
    api_key_id text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash text NOT NULL,
    any_recipient boolean NOT NULL,
    source_ip text,
    request_id text,
    common text NOT NULL,
    rate bigint NOT NULL,
    status text NOT NULL,
    total bigint DEFAULT 0 NOT NULL,
    ingest_complete boolean DEFAULT false NOT NULL,
    runner text,
    runner_lease_until_us bigint,
    created_at_us bigint NOT NULL,
    finished_at_us bigint,
    paused_reason text,
    CONSTRAINT recovery_batches_status_check CHECK ((status = ANY (ARRAY['ingesting'::text, 'running'::text, 'paused'::text, 'cancelled'::text, 'done'::text])))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Data for Name: audit_events; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.audit_events (seq, id, at_us, actor, source_ip, request_id, action, delivery_id, identity_id, recipient_hash, recipient_masked, outcome, details, prev_hash, hash, key_id) FROM stdin;
1	4c0772fc-28e6-4362-96ec-fb5358c79d59	1796637179771465	backend	127.0.0.1	a9a8fdc7-4e6e-44c0-8621-d7fb6ae80a57	email.requested	4a8bd5f0-3f1d-4d6f-9d06-2fcd87c22d65	a251ebc2-880c-4f76-a8f3-38e6940eab0e	c3467385cae4fe824134de787030f64205a85f18353b6c31b8ec9abd516d1753	f***@o***.sh	queued	{"expires_in":"1h0m0s","method":"link","reason":"before 0","template":"recovery"}	0000000000000000000000000000000000000000000000000000000000000000	ad3c68b49927289125192cd97a003148c09288cb027a88d9215749dde29528c7	8a36e75aee975907
2	358dad8e-3503-47bc-a3b0-d52f9fdf0547	1796637179822089	backend	127.0.0.1	c580623f-7dae-4be4-b5e2-80d8c8ce212d	email.requested	614c51bd-c735-482e-b88f-fd170e5d4c23	a251ebc2-880c-4f76-a8f3-38e6940eab0e	c3467385cae4fe824134de787030f64205a85f18353b6c31b8ec9abd516d1753	f***@o***.sh	queued	{"expires_in":"1h0m0s","method":"link","reason":"before 1","template":"recovery"}	ad3c68b49927289125192cd97a003148c09288cb027a88d9215749dde29528c7	459af0049987832e1ad132704dfbc24b1a833ccbf70f4069dd4ec5ed737da043	8a36e75aee975907
3	80f8308b-588d-4a03-b579-feece7048f09	1796637179839625	system	\N	a9a8fdc7-4e6e-44c0-8621-d7fb6ae80a57	email.sent	4a8bd5f0-3f1d-4d6f-9d06-2fcd87c22d65	a251ebc2-880c-4f76-a8f3-38e6940eab0e	c3467385cae4fe824134de787030f64205a85f18353b6c31b8ec9abd516d1753	f***@o***.sh	sent	{"attempt":"1","smtp_reply":"250 2.0.0 Ok: queued as TEST000001"}	459af0049987832e1ad132704dfbc24b1a833ccbf70f4069dd4ec5ed737da043	dc00c30c7889ecc947dbcad64a25d922831865ad429a03179c46256dccd7297c	8a36e75aee975907
4	6d2d8836-b91f-41c1-bf3b-67b1ad52a293	1796637179849675	backend	127.0.0.1	71af0b74-6e36-4d07-9eac-0495d068667e	email.requested	73f6c8cf-7ffd-4d90-ac69-3eaa1458c369	a251ebc2-880c-4f76-a8f3-38e6940eab0e	c3467385cae4fe824134de787030f64205a85f18353b6c31b8ec9abd516d1753	f***@o***.sh	queued	{"expires_in":"1h0m0s","method":"link","reason":"before 2","template":"recovery"}	dc00c30c7889ecc947dbcad64a25d922831865ad429a03179c46256dccd7297c	51726e982da8aa42104ee17e95ef90476baf15b5209bbc554d26e19c63c85992	8a36e75aee975907
5	a2ed8a41-0a19-4748-828a-2d6544eeb1d6	1796637179861926	system	\N	c580623f-7dae-4be4-b5e2-80d8c8ce212d	email.sent	614c51bd-c735-482e-b88f-fd170e5d4c23	a251ebc2-880c-4f76-a8f3-38e6940eab0e	c3467385cae4fe824134de787030f64205a85f18353b6c31b8ec9abd516d1753	f***@o***.sh	sent	{"attempt":"1","smtp_reply":"250 2.0.0 Ok: queued as TEST000002"}	51726e982da8aa42104ee17e95ef90476baf15b5209bbc554d26e19c63c85992	d82d90718473955c7217ca9673ac2c368d74173682d01c2684a1a7d17ab24c2b	8a36e75aee975907
6	3522613e-957c-4e31-b61e-a2bc5c5a19e8	1796637179897051	system	\N	71af0b74-6e36-4d07-9eac-0495d068667e	email.sent	73f6c8cf-7ffd-4d90-ac69-3eaa1458c369	a251ebc2-880c-4f76-a8f3-38e6940eab0e	c3467385cae4fe824134de787030f64205a85f18353b6c31b8ec9abd516d1753	f***@o***.sh	sent	{"attempt":"1","smtp_reply":"250 2.0.0 Ok: queued as TEST000003"}	d82d90718473955c7217ca9673ac2c368d74173682d01c2684a1a7d17ab24c2b	8b848db5a2fa2e4382b38686e56c7335da0d640d2e82a55dc8598095bfc5b364	8a36e75aee975907
7	7d08f1d5-bfc9-48eb-a03d-a4f46f832158	1796637179999057	system	\N	\N	audit.checkpoint	\N	\N	\N	\N	\N	{"digest":"4084f970a95c507048fb05c50463b7494777d01c3f20aa3726d9ca1ea187d37b","head":"8b848db5a2fa2e4382b38686e56c7335da0d640d2e82a55dc8598095bfc5b364","key_id":"5f552bd3542951a2","seq":"6","signature":"Zjvy67juc34beKcAYxLakT8TorINoNWooCBy23ZabSkgeYGx8LCcrwI34fZtTZxnV4veWZsXqrZ3e6wHg/rvAQ==","signed_at":"2026-12-07T09:52:59.999057Z"}	8b848db5a2fa2e4382b38686e56c7335da0d640d2e82a55dc8598095bfc5b364	a80f189a24202d603de93405888d06859a83970d4557e0ae18a395bc111a2bad	8a36e75aee975907
\.


--
-- Data for Name: audit_head; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.audit_head (singleton, seq, hash, key_id) FROM stdin;
t	7	a80f189a24202d603de93405888d06859a83970d4557e0ae18a395bc111a2bad	8a36e75aee975907
\.


--
-- Data for Name: batch_items; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.batch_items (batch_id, "position", item, outcome, reason, identity_id, recipient_masked, delivery_id) FROM stdin;
\.


--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.deliveries (id, status, failure, identity_id, recipient, method, template, locale, expires_in, deadline_us, reason, transient_payload, message_id, actor, request_id, api_key_id, idempotency_key, attempts, next_attempt_at_us, lease_expires_at_us, last_error_class, last_error, smtp_reply, created_at_us, sent_at_us, source, template_type, sealed_payload) FROM stdin;
4a8bd5f0-3f1d-4d6f-9d06-2fcd87c22d65	sent	\N	a251ebc2-880c-4f76-a8f3-38e6940eab0e	foobar@ory.sh	link	recovery	\N	1h0m0s	1796640779743593	before 0	\N	<57a04047-e1d4-4155-a886-71643ad65d4f@example.com>	backend	a9a8fdc7-4e6e-44c0-8621-d7fb6ae80a57	backend	before-0	1	\N	\N	\N	\N	250 2.0.0 Ok: queued as TEST000001	1796637179743593	1796637179839623	admin_api	\N	\N
614c51bd-c735-482e-b88f-fd170e5d4c23	sent	\N	a251ebc2-880c-4f76-a8f3-38e6940eab0e	foobar@ory.sh	link	recovery	\N	1h0m0s	1796640779813323	before 1	\N	<80b9448c-cb2b-424c-a339-373be6c9fda5@example.com>	backend	c580623f-7dae-4be4-b5e2-80d8c8ce212d	backend	before-1	1	\N	\N	\N	\N	250 2.0.0 Ok: queued as TEST000002	1796637179813323	1796637179861925	admin_api	\N	\N
73f6c8cf-7ffd-4d90-ac69-3eaa1458c369	sent	\N	a251ebc2-880c-4f76-a8f3-38e6940eab0e	foobar@ory.sh	link	recovery	\N	1h0m0s	1796640779840230	before 2	\N	<219ade12-9a4f-432e-a105-5c0451ab8e6e@example.com>	backend	71af0b74-6e36-4d07-9eac-0495d068667e	backend	before-2	1	\N	\N	\N	\N	250 2.0.0 Ok: queued as TEST000003	1796637179840230	1796637179897049	admin_api	\N	\N
\.


--
-- Data for Name: idempotency_records; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.idempotency_records (api_key_id, key, request_hash, response_status, response_body, delivery_id, expires_at_us) FROM stdin;
backend	before-0	3beec95ea7dae954a73f107f8f727fe96f9380234ed6a5fa21888c2a2757c718	202	\\x7b22617474656d707473223a302c22637265617465645f6174223a22323032362d31322d30375430393a35323a35392e3734335a222c226964223a2234613862643566302d336631642d346436662d396430362d326663643837633232643635222c226964656e746974795f6964223a2261323531656263322d383830632d346637362d613866332d333865363934306561623065222c226d6573736167655f6964223a223c35376130343034372d653164342d343135352d613838362d373136343361643635643466406578616d706c652e636f6d3e222c226d6574686f64223a226c696e6b222c226e6578745f617474656d70745f6174223a22323032362d31322d30375430393a35323a35392e3734335a222c22726563697069656e74223a22662a2a2a406f2a2a2a2e7368222c22736f75726365223a2261646d696e5f617069222c22737461747573223a22717565756564222c2274656d706c617465223a227265636f76657279227d	4a8bd5f0-3f1d-4d6f-9d06-2fcd87c22d65	1796723579743593
backend	before-1	bf636cbda7e9de8a4666ea0d14bf334b643d5f7c7bc3df4587e9a7e4d8bb4c74	202	\\x7b22617474656d707473223a302c22637265617465645f6174223a22323032362d31322d30375430393a35323a35392e3831335a222c226964223a2236313463353162642d633733352d343832652d623838662d666431373065356434633233222c226964656e746974795f6964223a2261323531656263322d383830632d346637362d613866332d333865363934306561623065222c226d6573736167655f6964223a223c38306239343438632d636232622d343234632d613333392d333733626536633966646135406578616d706c652e636f6d3e222c226d6574686f64223a226c696e6b222c226e6578745f617474656d70745f6174223a22323032362d31322d30375430393a35323a35392e3831335a222c22726563697069656e74223a22662a2a2a406f2a2a2a2e7368222c22736f75726365223a2261646d696e5f617069222c22737461747573223a22717565756564222c2274656d706c617465223a227265636f76657279227d	614c51bd-c735-482e-b88f-fd170e5d4c23	1796723579813323
backend	before-2	5bdfcbba91970e5815c774dd5cb6d2127369b9e160aaf5d5a3bca423c96d9219	202	\\x7b22617474656d707473223a302c22637265617465645f6174223a22323032362d31322d30375430393a35323a35392e3834305a222c226964223a2237336636633863662d376666642d346439302d616336392d336561613134353863333639222c226964656e746974795f6964223a2261323531656263322d383830632d346637362d613866332d333865363934306561623065222c226d6573736167655f6964223a223c32313961646531322d396134662d343332652d613130352d356330343531616238653665406578616d706c652e636f6d3e222c226d6574686f64223a226c696e6b222c226e6578745f617474656d70745f6174223a22323032362d31322d30375430393a35323a35392e3834305a222c22726563697069656e74223a22662a2a2a406f2a2a2a2e7368222c22736f75726365223a2261646d696e5f617069222c22737461747573223a22717565756564222c2274656d706c617465223a227265636f76657279227d	73f6c8cf-7ffd-4d90-ac69-3eaa1458c369	1796723579840230
\.


--
-- Data for Name: recovery_batches; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.recovery_batches (id, api_key_id, idempotency_key, request_hash, any_recipient, source_ip, request_id, common, rate, status, total, ingest_complete, runner, runner_lease_until_us, created_at_us, finished_at_us, paused_reason) FROM stdin;
\.


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schema_migrations (name, applied_at) FROM stdin;
v1_deliveries	2026-12-07 09:52:59.415141+00
v2_idempotency_records	2026-12-07 09:52:59.415141+00
v3_audit_events	2026-12-07 09:52:59.415141+00
v4_kratos_courier	2026-12-07 09:52:59.415141+00
v5_audit_key_id	2026-12-07 09:52:59.415141+00
v6_recovery_batches	2026-12-07 09:52:59.415141+00
v7_cancelled_deliveries	2026-12-07 09:52:59.415141+00
v8_batch_control	2026-12-07 09:52:59.415141+00
\.


--
-- Name: audit_events audit_events_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_id_key UNIQUE (id);


--
-- Name: audit_events audit_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (seq);


--
-- Name: audit_head audit_head_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_head
    ADD CONSTRAINT audit_head_pkey PRIMARY KEY (singleton);


--
-- Name: batch_items batch_items_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_pkey PRIMARY KEY (batch_id, "position");


--
-- Name: deliveries deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);


--
-- Name: idempotency_records idempotency_records_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_records
    ADD CONSTRAINT idempotency_records_pkey PRIMARY KEY (api_key_id, key);


--
-- Name: recovery_batches recovery_batches_api_key_id_idempotency_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.recovery_batches
    ADD CONSTRAINT recovery_batches_api_key_id_idempotency_key_key UNIQUE (api_key_id, idempotency_key);


--
-- Name: recovery_batches recovery_batches_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.recovery_batches
    ADD CONSTRAINT recovery_batches_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (name);


--
-- Name: audit_events_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_at ON public.audit_events USING btree (at_us);


--
-- Name: audit_events_delivery; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_delivery ON public.audit_events USING btree (delivery_id, seq);


--
-- Name: audit_events_identity; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_identity ON public.audit_events USING btree (identity_id, seq);


--
-- Name: batch_items_outcome; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX batch_items_outcome ON public.batch_items USING btree (batch_id, outcome, "position");


--
-- Name: deliveries_cooldown; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deliveries_cooldown ON public.deliveries USING btree (identity_id, lower(recipient), created_at_us);


--
-- Name: deliveries_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deliveries_due ON public.deliveries USING btree (status, next_attempt_at_us);


--
-- Name: deliveries_lease; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deliveries_lease ON public.deliveries USING btree (status, lease_expires_at_us);


--
-- Name: deliveries_newest; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deliveries_newest ON public.deliveries USING btree (created_at_us DESC, id DESC);


--
-- Name: deliveries_oldest; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deliveries_oldest ON public.deliveries USING btree (created_at_us, id);


--
-- Name: deliveries_source_type; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deliveries_source_type ON public.deliveries USING btree (source, template_type, created_at_us);


--
-- Name: idempotency_records_expiry; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idempotency_records_expiry ON public.idempotency_records USING btree (expires_at_us);


--
-- Name: recovery_batches_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX recovery_batches_status ON public.recovery_batches USING btree (status);


--
-- Name: audit_events audit_events_no_change; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_events_no_change BEFORE DELETE OR UPDATE ON public.audit_events FOR EACH ROW EXECUTE FUNCTION public.audit_events_append_only();


--
-- Name: audit_events audit_events_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON public.audit_events FOR EACH STATEMENT EXECUTE FUNCTION public.audit_events_append_only();


--
-- Name: deliveries deliveries_batch_running; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER deliveries_batch_running BEFORE INSERT ON public.deliveries FOR EACH ROW EXECUTE FUNCTION public.recovery_batch_accepts();


--
-- Name: batch_items batch_items_batch_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.batch_items
    ADD CONSTRAINT batch_items_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES public.recovery_batches(id);


--
-- Name: idempotency_records idempotency_records_delivery_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_records
    ADD CONSTRAINT idempotency_records_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES public.deliveries(id) DEFERRABLE INITIALLY DEFERRED;


--
-- PostgreSQL database dump complete
--

\unrestrict 8MU0VNVVFRQy45McIdFDCK834Q2Q97oTZhpQdyQ9qcHgxNHqw7yBMrrmVVtfzdm

