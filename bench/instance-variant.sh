#!/bin/bash
# One model, one instance configuration, one concurrency: a quick A/B of instance and batching settings.
# Needs bench/.work from a previous `npm run bench` (model files and request bodies).
#   bash bench/instance-variant.sh wide-mlp '{"instance_kind":"inline","onnx":{"allow_spinning":true}}' 64 5
# $1 model name (tiny-mlp|wide-mlp|ocr-recognition) $2 config json extra (merged) $3 concurrency $4 seconds
# PROFILE=dir writes a V8 CPU profile of the server there (summarise: npx tsx bench/lib/profile-summary.ts dir/*.cpuprofile).
# ACCESS_LOG=on keeps the JSON line per request (written to bench/.work/variant.log, as `npm run bench` does for (a)).
# NODE_FLAGS="--trace-gc" passes flags to the server's node.
# SHOW_THP=1 prints the server's AnonHugePages (onnx.huge_pages) before it stops.
# WARMUP=10 loads the server for that many seconds before the measured run (default 2).
# CLIENT=autocannon uses autocannon for the load instead of the raw keep-alive client.
# PIN=off shares the CPUs; by default the load generator runs on CPU 0 and the server on CPU 1. SERVER_CPUS=0 puts the server beside
# the load generator instead; with "instance_cpus":"1" in the config its instance threads stay on CPU 1, as `npm run bench` places Modelplane.
cd "$(dirname "$0")/.."; PORT=${PORT:-8047}; R=bench/.work/repos/variant; rm -rf $R; mkdir -p $R/$1/1
if [ "${PIN:-on}" = on ]; then SRV="taskset -c ${SERVER_CPUS:-1}"; GEN="taskset -c 0"; else SRV=""; GEN=""; fi
case $1 in tiny-mlp) F=$PWD/bench/.work/files/tiny-mlp.onnx; MB=64;; wide-mlp) F=$PWD/bench/.work/files/wide-mlp.onnx; MB=64;; ocr-recognition) F=$(readlink -f examples/models/ocr-recognition/1/model.onnx); MB=16;; esac
ln -sf $F $R/$1/1/model.onnx
node -e "const c={name:'$1',max_batch_size:$MB,dynamic_batching:{},...JSON.parse(process.argv[1])}; if('$1'==='ocr-recognition'){c.warmup={inputs:{x:{dims:[3,48,320],data:'random'}}}; c.dynamic_batching={padding:{inputs:{x:{dim:2,value:0}},outputs:{'softmax_11.tmp_0':{dim:0,input:'x'}}}}} require('fs').writeFileSync('$R/$1/config.json',JSON.stringify(c))" "$2"
if [ "${ACCESS_LOG:-off}" = on ]; then LL=info; NAL=""; else LL=warn; NAL=--no-access-log; fi
(LOG_LEVEL=$LL $SRV node ${NODE_FLAGS:-} ${PROFILE:+--cpu-prof --cpu-prof-dir=$PROFILE} --import tsx src/cli/main.ts serve --repository $R --port $PORT $NAL > bench/.work/variant.log 2>&1 &)
for i in $(seq 1 100); do curl -sf localhost:$PORT/v2/health/ready >/dev/null && break; sleep 0.3; done
HL=$(node -e "const b=require('fs').readFileSync('bench/.work/$1.body');console.log(b.indexOf(Buffer.from([0x7d,0x5d,0x7d]))+3)")
L='{"url":"http://127.0.0.1:'$PORT'/v2/models/'$1'/infer","bodyFile":"bench/.work/'$1'.body","headers":{"content-type":"application/octet-stream","inference-header-content-length":"'$HL'"},"client":"'${CLIENT:-raw}'","connections":'$3',"durationSeconds":'
# WARMUP_C=64 warms up at that concurrency instead of the measured one (as `npm run bench` does).
[ -n "$WARMUP_C" ] && $GEN node --import tsx bench/lib/load-worker.ts "${L/\"connections\":$3,/\"connections\":$WARMUP_C,}${WARMUP:-2}}" > /dev/null
$GEN node --import tsx bench/lib/load-worker.ts "${L}${WARMUP:-2}}" > /dev/null
S0=$(curl -s localhost:$PORT/v2/models/stats)
$GEN node --import tsx bench/lib/load-worker.ts "${L}$4}" | python3 -c "import json,sys; d=json.load(sys.stdin); print('   c=$3 rate', round(d['ok']/d['seconds']), 'steady', round(d.get('steady_ok_per_second',0)), 'p50', round(d['ok_ms']['p50'],2), 'p99', round(d['ok_ms']['p99'],2), 'status', d['status'])"
S1=$(curl -s localhost:$PORT/v2/models/stats)
node --import tsx bench/lib/batch-stats.ts "$S0" "$S1"
[ -n "$SHOW_THP" ] && grep AnonHuge /proc/$(pgrep -f "port $PORT" | head -1)/smaps_rollup; pkill -f "port $PORT"; sleep 1
