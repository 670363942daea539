#!/usr/bin/env bash
# Signed status callbacks per second and p99 latency, product webhook versus the reference view,
# in one run: gunicorn (2 sync workers) on PostgreSQL, wrk from a second process on 127.0.0.1.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_webhooks bash bench/webhooks/run.sh
#
# Needs wrk (Debian: apt-get install -y wrk). Env: N (texts per side, 60000), ROUNDS (3),
# DURATION (8s per round and side),
# CONNECTIONS (16), RATE_CONNECTIONS (12), RATE_DELAY_MS (50: about 200 requests/s).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL database you own}"
N="${N:-60000}"; DURATION="${DURATION:-8s}"; ROUNDS="${ROUNDS:-3}"; CONNECTIONS="${CONNECTIONS:-16}"
RATE_CONNECTIONS="${RATE_CONNECTIONS:-12}"; RATE_DELAY_MS="${RATE_DELAY_MS:-50}"
export DJANGO_SETTINGS_MODULE=bench.webhooks.settings
PORT="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export PUBLIC_BASE_URL="http://127.0.0.1:${PORT}"
OUT="$(mktemp -d)"

DB_NAME="${DATABASE_URL##*/}"
psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}'" \
  | grep -q 1 || createdb -h 127.0.0.1 -U postgres "$DB_NAME"
.venv/bin/python manage.py migrate --noinput -v 0

prepare() { .venv/bin/python bench/webhooks/prepare.py "$N" "$OUT" 2>/dev/null; }
bench() {  # name script connections delay_ms offset
  REQUESTS="$OUT/$2.lua" THREADS=2 DELAY_MS="$4" OFFSET="$5" \
    wrk -t2 -c"$3" -d"$DURATION" --latency -s bench/webhooks/callbacks.lua "$PUBLIC_BASE_URL" \
    | sed -n "s/^RESULT /$1 /p"
}

.venv/bin/gunicorn config.wsgi:application -w 2 -b "127.0.0.1:${PORT}" --log-level warning \
  >"$OUT/gunicorn.log" 2>&1 &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null; wait "$GUNICORN" 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "$PUBLIC_BASE_URL/healthz" && break; sleep 0.2; done

# Other work on the machine drifts; product and reference alternate in short rounds, each round
# on texts no earlier round touched (OFFSET), and the ratio is taken per round.
SLICE=$((N / (2 * ROUNDS + 1)))
prepare
DURATION=3s bench warmup product 4 0 0 >/dev/null
DURATION=3s bench warmup reference 4 0 0 >/dev/null
echo "# throughput: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION} per side"
for round in $(seq 1 "$ROUNDS"); do
  bench "product   round=$round" product "$CONNECTIONS" 0 $((round * SLICE))
  bench "reference round=$round" reference "$CONNECTIONS" 0 $((round * SLICE))
done
echo "# paced: ${RATE_CONNECTIONS} connections, ${RATE_DELAY_MS} ms between requests per connection"
for round in $(seq 1 "$ROUNDS"); do
  bench "product-paced   round=$round" product "$RATE_CONNECTIONS" "$RATE_DELAY_MS" $(((ROUNDS + round) * SLICE))
  bench "reference-paced round=$round" reference "$RATE_CONNECTIONS" "$RATE_DELAY_MS" $(((ROUNDS + round) * SLICE))
done
.venv/bin/python - <<'PY'
import django
django.setup()
from messaging.models import Message
for side in ("product", "reference"):
    done = Message.objects.filter(body__startswith=f"bench {side} ", status="delivered").count()
    print(f"# {side}: {done} texts delivered by the callbacks (each request a real state change)")
PY
