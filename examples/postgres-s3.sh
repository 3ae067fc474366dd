#!/usr/bin/env bash
# Running lakesoul-ts on PostgreSQL + S3: the same commands as on the embedded defaults, pointed at a
# server with LakeSoul's own environment variables. docs/postgres-s3.md walks through it.
#
#   LAKESOUL_PG_URL=jdbc:postgresql://HOST:5432/DB LAKESOUL_PG_USERNAME=... LAKESOUL_PG_PASSWORD=... \
#   AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_REGION=... AWS_ENDPOINT=http://... \
#   WAREHOUSE=s3://BUCKET/lakehouse bash examples/postgres-s3.sh
set -euo pipefail
: "${LAKESOUL_PG_URL:?set LAKESOUL_PG_URL (jdbc:postgresql://host:port/db)}"
: "${WAREHOUSE:?set WAREHOUSE (s3://bucket/prefix)}"
LAKESOUL_TS=${LAKESOUL_TS:-lakesoul-ts}
NS=${NS:-sales}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

lakesoul() { $LAKESOUL_TS --warehouse "$WAREHOUSE" --quiet "$@"; }

lakesoul init
lakesoul ns create "$NS" --if-not-exists
lakesoul table create orders -n "$NS" --if-not-exists \
  --schema "order_id:int64!,day:date32!,customer:utf8,amount:decimal(12,2),status:utf8" \
  --partition-by day --primary-key order_id --buckets 8

cat > "$work/orders.csv" <<'CSV'
order_id,day,customer,amount,status
1001,2024-03-01,ada,19.90,new
1002,2024-03-01,bob,5.00,new
1003,2024-03-02,cy,120.50,new
CSV
lakesoul import orders "$work/orders.csv" -n "$NS" --mode upsert

# A later batch updates one order and adds another: an upsert (MergeCommit), merged on read.
printf '%s\n' '{"order_id":1002,"day":"2024-03-01","customer":"bob","amount":"7.50","status":"paid"}' \
              '{"order_id":1004,"day":"2024-03-02","customer":"dee","amount":"42.00","status":"new"}' > "$work/updates.jsonl"
lakesoul import orders "$work/updates.jsonl" -n "$NS" --mode upsert

lakesoul scan orders -n "$NS" --format csv
lakesoul scan orders -n "$NS" --partition day=2024-03-01 --version 0 --format jsonl
lakesoul history orders -n "$NS"
lakesoul compact orders -n "$NS"
lakesoul scan orders -n "$NS" --filter "status = 'paid'" --format jsonl
