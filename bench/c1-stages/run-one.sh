# One model: $1 project root (model files, client) $2 scratch dir $3 model $4 requests. Runs in the patched tree.
ROOT=$1; W=$2; R=$W/repo; rm -rf $R; mkdir -p $R/$3/1; ln -sf $ROOT/bench/.work/files/$3.onnx $R/$3/1/model.onnx
echo '{"name":"'$3'","max_batch_size":64,"instance_kind":"worker","onnx":{"intra_op_threads":1},"dynamic_batching":{"max_queue_delay_us":10000,"adaptive_queue_delay":true}}' > $R/$3/config.json
(LOG_LEVEL=warn taskset -c 1 node --import tsx src/cli/main.ts serve --repository $R --port 8050 --no-access-log > $W/server.out 2> $W/server.err &)
for i in $(seq 1 200); do curl -sf localhost:8050/v2/health/ready >/dev/null && break; sleep 0.3; done
taskset -c 0 node --import tsx $ROOT/bench/c1-stages/client.ts 8050 100 $ROOT/bench/.work/$3.body $3 > /dev/null; : > $W/server.err
taskset -c 0 node --import tsx $ROOT/bench/c1-stages/client.ts 8050 $4 $ROOT/bench/.work/$3.body $3 > $W/client.json; sleep 0.5; pkill -f "port 8050"; sleep 1
python3 $ROOT/bench/c1-stages/stages.py $W/client.json $W/server.err
