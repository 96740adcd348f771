-- S10: Chat's audit trail of security-relevant actions (see Shared/Migrations/AuditTrailSchema.swift).
SELECT contexo_tickets.create_audit_trail('chat');
