#!/usr/bin/env python3
"""Golden vectors for the embedded model, from an independent reference implementation.

Run by hand, once per model change (not by scripts/test), in a virtualenv with PyTorch and
sentence-transformers from PyPI:

    python3 -m venv /tmp/golden && /tmp/golden/bin/pip install sentence-transformers
    /tmp/golden/bin/python scripts/golden-embeddings.py /opt/contexo/models/all-MiniLM-L6-v2 \
        > Tests/ServicesTests/Ingest/Golden/minilm-golden.json

Writes each sentence with the token ids of Hugging Face's tokenizer and the normalised embedding
sentence-transformers computes; ModelEmbedderTests checks the Swift encoder against them.
"""
import json
import sys

from sentence_transformers import SentenceTransformer

SENTENCES = [
    "How do I reset my password?",
    "Refunds are issued within 14 days of the purchase.",
    "Set $SYSTEMD_SECCOMP=0 to turn the seccomp filter off.",
    "Café crème, naïve résumé — ÀÉÎÕÜ façade.",
    "Wie kann ich mein Abonnement kündigen?",
    "¿Dónde está la documentación de la API?",
    "Redis 7.2.4 supports ACLs; see https://redis.io/docs/management/security/acl/ for details.",
    "中文分词测试 and English words mixed",
    "x" * 150 + " antidisestablishmentarianism supercalifragilistic",
    "\tTabs,\u00a0non-breaking spaces\u200b and control\u0007 characters\n",
    "`make test` runs the suite; `./runtest --tls` needs OpenSSL.",
    " ".join(["The quick brown fox jumps over the lazy dog."] * 40),
]


def main() -> None:
    model = SentenceTransformer(sys.argv[1], device="cpu")
    tokenizer = model.tokenizer
    cases = []
    for sentence in SENTENCES:
        ids = tokenizer(sentence, truncation=True, max_length=model.max_seq_length)["input_ids"]
        vector = model.encode(sentence, normalize_embeddings=True, convert_to_numpy=True)
        cases.append({"text": sentence, "ids": ids, "vector": [round(float(v), 7) for v in vector]})
    json.dump({"model": "all-MiniLM-L6-v2", "reference": "sentence-transformers on PyTorch, CPU",
               "maxSequenceLength": model.max_seq_length, "cases": cases}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
