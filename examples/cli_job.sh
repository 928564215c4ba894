#!/usr/bin/env bash
# Drive the zcrm-related command as a cron job or a CI step would:
#   write a job file, see its plan, run it with a journal, read the report.
#
#   bash examples/cli_job.sh
#
# Against Zoho CRM: export ZOHO_API_DOMAIN (e.g. https://www.zohoapis.eu) and ZOHO_ACCESS_TOKEN
# (or ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN). Without ZOHO_API_DOMAIN the
# script starts the fake Zoho server first, so it runs as it is.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
work="$(mktemp -d)"
fake_pid=""
cleanup() {
    if [[ -n "$fake_pid" ]]; then kill "$fake_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The console script when it is installed on PATH, the module otherwise.
zcrm_related() {
    if command -v zcrm-related >/dev/null; then zcrm-related "$@"; else "$PYTHON" -m zcrm_related_async "$@"; fi
}

if [[ -z "${ZOHO_API_DOMAIN:-}" ]]; then
    "$PYTHON" -m zcrm_related_async.testing --port 0 --latency 0.01 \
        --access-token example-token >"$work/fake.log" &
    fake_pid=$!
    for _ in $(seq 100); do grep -q "listening on" "$work/fake.log" && break; sleep 0.1; done
    ZOHO_API_DOMAIN="$(sed -n 's/^listening on //p' "$work/fake.log")"
    export ZOHO_API_DOMAIN ZOHO_ACCESS_TOKEN=example-token
    echo "(ZOHO_API_DOMAIN is not set: using a fake Zoho CRM at $ZOHO_API_DOMAIN)"
fi

# 1. The job: 2,000 campaign members and one lead update, one operation a line.
for c in $(seq 0 19); do
    for m in $(seq 0 99); do
        printf '{"op":"link","module":"Campaigns","record_id":"%d","related_list":"Leads","related_id":"%d","fields":{"Member_Status":"Active"}}\n' \
            $((3652397000000000000 + c)) $((4876876000000000000 + c * 100 + m))
    done
done >"$work/ops.jsonl"
echo '{"op":"update","module":"Leads","record_id":"4876876000000000000","fields":{"Lead_Status":"Qualified"},"trigger":[]}' >>"$work/ops.jsonl"

# 2. What it will cost, without sending anything.
zcrm_related run --input "$work/ops.jsonl" --report "$work/report.jsonl" \
    --api-domain "$ZOHO_API_DOMAIN" --dry-run

# 3. The job itself. With --journal, the same command after a crash or Ctrl-C goes on where
#    it stopped, and sends nothing twice.
status=0
zcrm_related run --input "$work/ops.jsonl" --report "$work/report.jsonl" \
    --journal "$work/job.journal" --api-domain "$ZOHO_API_DOMAIN" --concurrency 5 || status=$?

# 4. The report: one JSON line per input line, keyed by "line".
case "$status" in
    0) echo "every line succeeded" ;;
    1) echo "some lines failed:"; grep -v '"status":"success"' "$work/report.jsonl" | head -5 ;;
    130 | 143) echo "interrupted (SIGINT or SIGTERM): run the same command again to go on"; exit "$status" ;;
    *) exit "$status" ;;
esac
echo "$(wc -l <"$work/report.jsonl") report lines for $(wc -l <"$work/ops.jsonl") input lines"
