-- S10: Ingest's audit trail of security-relevant actions (see Shared/Migrations/AuditTrailSchema.swift).
SELECT contexo_tickets.create_audit_trail('ingest');
