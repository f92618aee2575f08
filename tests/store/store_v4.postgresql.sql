-- The store as st-mcp 0.1.0 created it (schema version 4, before Alembic), for postgresql.
CREATE TABLE audit_events (
	seq BIGINT NOT NULL,
	id VARCHAR(40) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	kind VARCHAR(16) NOT NULL,
	principal VARCHAR(200) NOT NULL,
	role VARCHAR(64) NOT NULL,
	transport VARCHAR(16) NOT NULL,
	tool VARCHAR(100) NOT NULL,
	arguments TEXT NOT NULL,
	outcome VARCHAR(16) NOT NULL,
	reason TEXT,
	interaction_id VARCHAR(40),
	upstream_requests INTEGER NOT NULL,
	duration_ms FLOAT NOT NULL,
	prev_hash VARCHAR(64) NOT NULL,
	hash VARCHAR(64) NOT NULL,
	PRIMARY KEY (seq),
	UNIQUE (id)
);
CREATE INDEX ix_audit_events_at ON audit_events (at);
CREATE TABLE bookings (
	idempotency_key VARCHAR(200) NOT NULL,
	status VARCHAR(16) NOT NULL,
	request_fingerprint VARCHAR(64) NOT NULL,
	customer_id BIGINT NOT NULL,
	location_id BIGINT NOT NULL,
	job_type_id BIGINT NOT NULL,
	business_unit_id BIGINT NOT NULL,
	window_start TIMESTAMP WITH TIME ZONE NOT NULL,
	window_end TIMESTAMP WITH TIME ZONE NOT NULL,
	interaction_id VARCHAR(64),
	job_id BIGINT,
	job_number VARCHAR(64),
	appointment_id BIGINT,
	principal VARCHAR(200),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (idempotency_key)
);
CREATE TABLE escalations (
	id VARCHAR(64) NOT NULL,
	interaction_id VARCHAR(64),
	lead_id BIGINT,
	phone VARCHAR(32),
	reason VARCHAR(32) NOT NULL,
	note TEXT NOT NULL,
	servicetitan_task_id BIGINT,
	servicetitan_lead_follow_up VARCHAR(64),
	principal VARCHAR(200),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE TABLE interactions (
	id VARCHAR(40) NOT NULL,
	goal VARCHAR(32) NOT NULL,
	channel VARCHAR(32) NOT NULL,
	type VARCHAR(16) NOT NULL,
	status VARCHAR(40) NOT NULL,
	name VARCHAR(200),
	phone VARCHAR(20),
	email VARCHAR(200),
	street VARCHAR(200),
	city VARCHAR(100),
	state VARCHAR(8),
	zip VARCHAR(10),
	request TEXT,
	source VARCHAR(100),
	campaign_id BIGINT,
	servicetitan_lead_id BIGINT,
	customer_id BIGINT,
	location_id BIGINT,
	job_id BIGINT,
	job_number VARCHAR(64),
	summary TEXT,
	outcome TEXT,
	status_reason TEXT,
	taken_over_by VARCHAR(200),
	duplicate_of VARCHAR(40),
	in_service_area BOOLEAN,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	first_outbound_at TIMESTAMP WITH TIME ZONE,
	last_inbound_at TIMESTAMP WITH TIME ZONE,
	last_activity_at TIMESTAMP WITH TIME ZONE NOT NULL,
	inbound_count INTEGER NOT NULL,
	outbound_count INTEGER NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_interactions_activity ON interactions (last_activity_at, id);
CREATE INDEX ix_interactions_customer ON interactions (customer_id);
CREATE INDEX ix_interactions_lead ON interactions (servicetitan_lead_id);
CREATE INDEX ix_interactions_phone ON interactions (phone);
CREATE TABLE leases (
	name VARCHAR(200) NOT NULL,
	holder VARCHAR(64) NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (name)
);
CREATE TABLE schema_version (
	version SERIAL NOT NULL,
	applied_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (version)
);
CREATE TABLE server_secrets (
	name VARCHAR(64) NOT NULL,
	value VARCHAR(256) NOT NULL,
	PRIMARY KEY (name)
);
CREATE TABLE suppressions (
	phone VARCHAR(20) NOT NULL,
	active BOOLEAN NOT NULL,
	opted_out_at TIMESTAMP WITH TIME ZONE NOT NULL,
	interaction_id VARCHAR(40),
	channel VARCHAR(8) NOT NULL,
	reason TEXT NOT NULL,
	confirmation_sent_at TIMESTAMP WITH TIME ZONE,
	opted_in_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (phone)
);
CREATE TABLE watermarks (
	name VARCHAR(64) NOT NULL,
	value TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (name)
);
CREATE TABLE calls (
	id VARCHAR(40) NOT NULL,
	interaction_id VARCHAR(40) NOT NULL,
	direction VARCHAR(8) NOT NULL,
	transcript TEXT NOT NULL,
	recording_url VARCHAR(500),
	duration_seconds INTEGER NOT NULL,
	outcome VARCHAR(100),
	sender VARCHAR(16) NOT NULL,
	sender_name VARCHAR(200),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(interaction_id) REFERENCES interactions (id)
);
CREATE INDEX ix_calls_interaction ON calls (interaction_id, created_at);
CREATE TABLE messages (
	id VARCHAR(40) NOT NULL,
	interaction_id VARCHAR(40) NOT NULL,
	direction VARCHAR(8) NOT NULL,
	channel VARCHAR(8) NOT NULL,
	sender VARCHAR(16) NOT NULL,
	sender_name VARCHAR(200),
	text TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(interaction_id) REFERENCES interactions (id)
);
CREATE INDEX ix_messages_interaction ON messages (interaction_id, created_at);
CREATE TABLE status_history (
	id SERIAL NOT NULL,
	interaction_id VARCHAR(40) NOT NULL,
	from_status VARCHAR(40),
	to_status VARCHAR(40) NOT NULL,
	reason TEXT,
	actor VARCHAR(200) NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(interaction_id) REFERENCES interactions (id)
);
CREATE INDEX ix_status_history_interaction ON status_history (interaction_id, id);
CREATE TABLE deliveries (
	message_id VARCHAR(40) NOT NULL,
	gateway VARCHAR(16) NOT NULL,
	provider_message_id VARCHAR(64),
	status VARCHAR(16) NOT NULL,
	error_code VARCHAR(16),
	PRIMARY KEY (message_id),
	FOREIGN KEY(message_id) REFERENCES messages (id)
);
CREATE INDEX ix_deliveries_provider ON deliveries (provider_message_id);
INSERT INTO schema_version (version, applied_at) VALUES (4, '2026-11-01 00:00:00+00:00');
