#!/usr/bin/env bash
# scripts/demo-seed.sh: prepare the demo widget on a running development stack and print its id.
#
# Usage:
#   GATEWAY=http://127.0.0.1:8080 DEMO_ORIGIN=http://localhost:8090 scripts/demo-seed.sh
#
# Mints a development token (POST $GATEWAY/dev/token: the gateway must run with
# CONTEXO_ENV=development, as under scripts/dev) for a fixed demo customer; creates the widget
# "Acme demo", or reuses it and adds DEMO_ORIGIN to its allowed domains; uploads every file in
# demo/docs whose title the widget does not have yet; waits until all of them are ready; prints
# the widget id on stdout. Everything else goes to stderr.
#
# Environment (defaults in brackets):
#   GATEWAY [http://127.0.0.1:8080]      the gateway's base URL
#   DEMO_ORIGIN [http://localhost:8090]  the origin of the page that embeds the widget
#   DEMO_CUSTOMER_ID [6d656d6f-0000-4000-8000-00000000ac3e]
#   DEMO_WIDGET_NAME [Acme demo]
#   DEMO_DOCS [<repo>/demo/docs]
#   DEMO_READY_TIMEOUT [60]              seconds to wait for the documents to be ready
set -euo pipefail

REPO=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
GATEWAY=${GATEWAY:-http://127.0.0.1:8080}
GATEWAY=${GATEWAY%/}
DEMO_ORIGIN=${DEMO_ORIGIN:-http://localhost:8090}
DEMO_CUSTOMER_ID=${DEMO_CUSTOMER_ID:-6d656d6f-0000-4000-8000-00000000ac3e}
DEMO_WIDGET_NAME=${DEMO_WIDGET_NAME:-Acme demo}
DEMO_DOCS=${DEMO_DOCS:-$REPO/demo/docs}
DEMO_READY_TIMEOUT=${DEMO_READY_TIMEOUT:-60}
GREETING="Hi! I'm the Acme Outdoor assistant. Ask me about returns, shipping, the warranty or caring for your gear."
MAX_ORIGINS=20 # a widget may list 50 origins; a reused widget keeps the newest 20

log() { printf 'demo-seed: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

for tool in curl python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
[[ -d $DEMO_DOCS ]] || die "no documents folder at $DEMO_DOCS"
[[ $DEMO_READY_TIMEOUT =~ ^[0-9]+$ ]] || die "DEMO_READY_TIMEOUT must be a number of seconds"

WORK=$(mktemp -d)
trap 'rm -rf -- "$WORK"' EXIT
TOKEN=""

# api METHOD PATH [CURL_ARGS...]: calls the gateway and prints the response body; on a non-2xx
# answer logs the problem+json it got and exits.
api() {
    local method=$1 path=$2 status
    shift 2
    local args=(-sS -o "$WORK/body" -w '%{http_code}' --max-time 30 -X "$method")
    if [[ -n $TOKEN ]]; then args+=(-H "Authorization: Bearer $TOKEN"); fi
    if ! status=$(curl "${args[@]}" "$@" "$GATEWAY$path"); then
        die "$method $GATEWAY$path: no answer (is the stack running? scripts/dev start)"
    fi
    if [[ $status != 2[0-9][0-9] ]]; then
        log "$method $path answered $status: $(head -c 2000 -- "$WORK/body")"
        die "$method $path failed"
    fi
    cat -- "$WORK/body"
}

# py SCRIPT [ARGS...]: runs a small Python script; the JSON document on stdin is `doc`, the
# arguments are `args`; whatever the script assigns to `out` is printed (strings raw).
py() {
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
args = sys.argv[2:]
out = None
exec(sys.argv[1])
if out is not None:
    print(out if isinstance(out, str) else json.dumps(out))
' "$@"
}

# json_body KEY VALUE [KEY VALUE...]: a JSON object of string values (a value starting with "["
# is parsed as a JSON list).
json_body() {
    python3 -c '
import json, sys
pairs = sys.argv[1:]
print(json.dumps({k: json.loads(v) if v.startswith("[") else v for k, v in zip(pairs[::2], pairs[1::2])}))
' "$@"
}

# title_of FILE: returns-and-shipping.md -> "Returns and shipping".
title_of() {
    local name
    name=$(basename -- "$1")
    name=${name%.*}
    name=${name//-/ }
    printf '%s\n' "${name^}"
}

content_type_of() {
    case ${1,,} in
    *.md | *.markdown) echo text/markdown ;;
    *.pdf) echo application/pdf ;;
    *.html | *.htm) echo text/html ;;
    *.csv) echo text/csv ;;
    *.docx) echo application/vnd.openxmlformats-officedocument.wordprocessingml.document ;;
    *) echo text/plain ;;
    esac
}

# 1. A development token for the demo customer.
response=$(api POST /dev/token -H 'Content-Type: application/json' --data "$(json_body customer_id "$DEMO_CUSTOMER_ID")")
TOKEN=$(py 'out = doc["token"]' <<<"$response")
log "minted a development token for customer $DEMO_CUSTOMER_ID"

# 2. The widget: reuse the one named DEMO_WIDGET_NAME, making sure DEMO_ORIGIN is on its list.
widgets=$(api GET /v1/widgets)
WIDGET_ID=$(py 'out = next((w["id"] for w in doc["widgets"] if w["name"] == args[0]), None)' \
    "$DEMO_WIDGET_NAME" <<<"$widgets")
if [[ -z $WIDGET_ID ]]; then
    response=$(api POST /v1/widgets -H 'Content-Type: application/json' \
        --data "$(json_body name "$DEMO_WIDGET_NAME" allowed_domains "[\"$DEMO_ORIGIN\"]")")
    WIDGET_ID=$(py 'out = doc["id"]' <<<"$response")
    api PATCH "/v1/widgets/$WIDGET_ID" -H 'Content-Type: application/json' \
        --data "$(json_body greeting "$GREETING")" >/dev/null
    log "created widget $WIDGET_ID (\"$DEMO_WIDGET_NAME\") allowed on $DEMO_ORIGIN"
else
    # The server stores origins lower-cased without a trailing slash; compare the same way.
    domains=$(py '
widget = next(w for w in doc["widgets"] if w["id"] == args[0])
wanted = args[1].rstrip("/").lower()
current = widget["allowed_domains"]
if wanted not in [o.lower() for o in current]:
    out = ([args[1]] + current)[: int(args[2])]
' "$WIDGET_ID" "$DEMO_ORIGIN" "$MAX_ORIGINS" <<<"$widgets")
    if [[ -n $domains ]]; then
        api PATCH "/v1/widgets/$WIDGET_ID" -H 'Content-Type: application/json' \
            --data "$(json_body allowed_domains "$domains")" >/dev/null
        log "reusing widget $WIDGET_ID; added $DEMO_ORIGIN to its allowed domains"
    else
        log "reusing widget $WIDGET_ID (already allowed on $DEMO_ORIGIN)"
    fi
fi

# 3. Upload each file whose title the widget does not have yet.
documents=$(api GET "/v1/documents?widget_id=$WIDGET_ID")
titles=()
for file in "$DEMO_DOCS"/*; do
    [[ -f $file ]] || continue
    title=$(title_of "$file")
    titles+=("$title")
    present=$(py 'out = "yes" if any(d["title"] == args[0] for d in doc["documents"]) else "no"' "$title" <<<"$documents")
    if [[ $present == yes ]]; then
        log "document \"$title\" is already there"
        continue
    fi
    response=$(api POST /v1/documents -F "widget_id=$WIDGET_ID" -F "title=$title" \
        -F "file=@$file;type=$(content_type_of "$file")")
    log "uploaded $(basename -- "$file") as \"$title\" (document $(py 'out = doc["id"]' <<<"$response"))"
done
((${#titles[@]} > 0)) || die "no files in $DEMO_DOCS"

# 4. Wait until every demo document is ready; a failed one ends the wait at once.
deadline=$((SECONDS + DEMO_READY_TIMEOUT))
while :; do
    documents=$(api GET "/v1/documents?widget_id=$WIDGET_ID")
    verdict=$(py '
mine = [d for d in doc["documents"] if d["title"] in args]
failed = [d for d in mine if d["status"] == "failed"]
if failed:
    out = "failed: " + "; ".join(d["title"] + ": " + (d.get("failure_reason") or "no reason given") for d in failed)
elif {d["title"] for d in mine} == set(args) and all(d["status"] == "ready" for d in mine):
    out = "ready"
else:
    out = "waiting: " + (", ".join(d["title"] + " " + d["status"] for d in mine) or "no documents listed")
' "${titles[@]}" <<<"$documents")
    case $verdict in
    ready) break ;;
    failed:*) die "a demo document $verdict (fix it, or DELETE /v1/documents/{id} and run again)" ;;
    esac
    ((SECONDS < deadline)) || die "documents not ready within $DEMO_READY_TIMEOUT s (${verdict#waiting: })"
    sleep 1
done
log "all ${#titles[@]} documents are ready"

printf '%s\n' "$WIDGET_ID"
