"""Schemathesis hooks for scripts/api-fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

POST /v1/documents takes a document as a raw body in its own media type. Schemathesis has no
serializer for PDF or DOCX, so without these it reports "Serialization not possible" for the
requests it draws with those types; they are bytes like application/octet-stream.
"""
import schemathesis

for media_type in ("application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"):
    schemathesis.serializer.alias(media_type, "application/octet-stream")
