#!/usr/bin/env bash
# scripts/api-fuzz.sh GATEWAY_URL REPORT_DIR: schemathesis against a running stack, through its
# gateway, from the gateway's own GET /openapi.json. Exits non-zero if any response is a 5xx.
#
# It signs in as a fresh customer (POST /dev/token: the stack must run with CONTEXO_ENV=development),
# creates a widget allowed on https://fuzz.example, pastes a document into it and asks it a
# question, adds a webhook endpoint, then runs its passes: the widget's operations (but PATCH and
# DELETE, which would change its origins) with the real widget and session ids, so the deeper code
# paths run; the webhook endpoint's (but DELETE) with its real id; PATCH on a second widget; then
# every operation with generated ids and bodies. Visitor requests carry that
# origin. Schemathesis is installed, pinned, in a virtualenv under .build/.
#
# Settings: CONTEXO_FUZZ_EXAMPLES (per operation and pass, default 40), CONTEXO_FUZZ_SEED,
# CONTEXO_FUZZ_CHECKS (schemathesis checks; default: no 5xx, every status documented, invalid input
# refused).
set -euo pipefail

REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
SCHEMATHESIS_VERSION=4.32.5
GATEWAY=${1:?usage: scripts/api-fuzz.sh GATEWAY_URL REPORT_DIR}
REPORT=${2:?usage: scripts/api-fuzz.sh GATEWAY_URL REPORT_DIR}
VENV=$REPO/.build/fuzz-venv
ORIGIN=https://fuzz.example

log() { printf 'api-fuzz: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION" || die "pip install schemathesis failed"
fi
mkdir -p "$REPORT"

# json_field FIELD: FIELD of the JSON object on stdin.
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

token=$(curl -fsS -X POST "$GATEWAY/dev/token" | json_field token) || die "POST /dev/token failed (is the stack in development mode?)"
auth="Authorization: Bearer $token"
widget=$(curl -fsS -X POST "$GATEWAY/v1/widgets" -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"name\": \"Fuzz\", \"allowed_domains\": [\"$ORIGIN\"]}" | json_field id) || die "could not create the widget"
curl -fsS -o /dev/null -X POST "$GATEWAY/v1/documents" -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"widget_id\": \"$widget\", \"title\": \"Returns\", \"text\": \"Refunds are issued within 14 days of a return request.\"}" ||
    die "could not paste the document"
opened=$(curl -fsS -X POST "$GATEWAY/widget/v1/widgets/$widget/sessions" -H "Origin: $ORIGIN") ||
    die "could not open a visitor session"
session=$(json_field token <<<"$opened")
session_id=$(json_field session_id <<<"$opened")
curl -fsS -o /dev/null -X POST "$GATEWAY/widget/v1/widgets/$widget/messages" -H "Origin: $ORIGIN" \
    -H "X-Contexo-Session: $session" -H 'Content-Type: application/json' -d '{"message": "How long do refunds take?"}' ||
    die "could not ask the first question"
# The free plan has one widget: the edited one belongs to a second customer.
editor=$(curl -fsS -X POST "$GATEWAY/dev/token" | json_field token) || die "POST /dev/token failed"
second=$(curl -fsS -X POST "$GATEWAY/v1/widgets" -H "Authorization: Bearer $editor" -H 'Content-Type: application/json' \
    -d '{"name": "Fuzz edits", "allowed_domains": []}' | json_field id) || die "could not create the second widget"
# A webhook endpoint of the first customer (the live stack lets endpoints be local addresses).
webhook=$(curl -fsS -X POST "$GATEWAY/v1/webhooks" -H "$auth" -H 'Content-Type: application/json' \
    -d '{"url": "https://127.0.0.1:9/fuzz", "events": ["document.ready"]}' | json_field id) || die "could not add the webhook endpoint"
log "customer token minted; widget $widget on $ORIGIN with a visitor session; webhook endpoint $webhook"

# config FILE TOKEN [WIDGET]: a schemathesis.toml giving dashboard routes the customer's TOKEN,
# visitor routes the widget's origin and the session, and (with WIDGET) every {widget_id} that widget.
config() {
    local file=$1 customer=$2
    shift 2
    {
        # A refused request may also be a 413 (a message or body over its limit) or a 429.
        printf '[checks.negative_data_rejection]\nexpected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]\n\n'
        [[ -n ${1:-} ]] && printf '[parameters]\n"path.widget_id" = "%s"\n"path.session_id" = "%s"\n\n' "$1" "$session_id"
        printf '[[operations]]\ninclude-path-regex = "^/v1/"\nheaders = { Authorization = "Bearer %s" }\n\n' "$customer"
        printf '[[operations]]\ninclude-path-regex = "^/widget/"\nheaders = { Origin = "%s", X-Contexo-Session = "%s" }\n' \
            "$ORIGIN" "$session"
    } >"$file"
}

# run NAME CONFIG [ARGS...]: one schemathesis pass with a schemathesis.toml; reports go to REPORT/NAME.
run() {
    local name=$1 config=$2
    shift 2
    SCHEMATHESIS_HOOKS="$REPO/scripts/api-fuzz-hooks.py" "$VENV/bin/st" --config-file "$config" run "$GATEWAY/openapi.json" --url "$GATEWAY" \
        --checks "${RUN_CHECKS:-$CHECKS}" --max-examples "${CONTEXO_FUZZ_EXAMPLES:-40}" \
        ${CONTEXO_FUZZ_SEED:+--seed "$CONTEXO_FUZZ_SEED"} \
        --phases examples,coverage,fuzzing --workers 1 --request-timeout 30 --no-color \
        --suppress-health-check all --generation-database none --generation-allow-x00 true \
        --report junit --report-dir "$REPORT/$name" "$@"
}

CHECKS=${CONTEXO_FUZZ_CHECKS:-not_a_server_error,status_code_conformance,negative_data_rejection}
status=0
config "$REPORT/generated.toml" "$token"
config "$REPORT/widget.toml" "$token" "$widget"
config "$REPORT/edits.toml" "$editor" "$second"
# The real ids first: the generated pass learns ids from responses and may delete the widget.
log "pass 1: the real widget and session ids (no PATCH or DELETE)"
run widget "$REPORT/widget.toml" --include-path-regex '\{widget_id\}' --exclude-method PATCH --exclude-method DELETE || status=$?
log "pass 1b: the real webhook endpoint's operations (no DELETE)"
printf '[parameters]\n"path.webhook_id" = "%s"\n\n' "$webhook" >"$REPORT/webhook.toml"
grep -v '^\[parameters\]' "$REPORT/generated.toml" >>"$REPORT/webhook.toml"
run webhook "$REPORT/webhook.toml" --include-path-regex '\{webhook_id\}' --exclude-method DELETE || status=$?
log "pass 2: PATCH on a real widget"
run edits "$REPORT/edits.toml" --include-operation-id updateWidget || status=$?
log "pass 3: every operation, generated ids and bodies"
run generated "$REPORT/generated.toml" --exclude-operation-id createDocument --exclude-operation-id deleteAccount || status=$?
# A raw text/* upload is any text: an object schemathesis sends as a body of the "wrong type" is
# valid CSV or Markdown, so the negative-data check cannot judge this operation's bodies.
log "pass 4: document uploads, generated bodies (no negative-data check)"
RUN_CHECKS=${CHECKS//,negative_data_rejection/} run documents "$REPORT/generated.toml" --include-operation-id createDocument || status=$?
# Last, and as a customer of its own: the first valid request deletes that account for good.
log "pass 5: account deletion, a third customer"
leaver=$(curl -fsS -X POST "$GATEWAY/dev/token" | json_field token) || die "POST /dev/token failed"
config "$REPORT/deletion.toml" "$leaver"
run deletion "$REPORT/deletion.toml" --include-operation-id deleteAccount || status=$?
exit "$status"
