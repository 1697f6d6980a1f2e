#!/bin/bash
# Where the time of one request goes at concurrency 1, stage by stage, for the wide and the tiny model:
# the server is patched with timestamps (timestamps.patch: onRequest, handler, postMessage to the
# instance thread, ORT start/end there, back on the main thread, reply.send, 'finish') in a throwaway
# git worktree; a raw keep-alive client (client.mjs) sends one request at a time and stamps its send
# and receive on the same clock. Pinned as `npm run bench` pins: client on CPU 0, server on CPU 1.
# Needs bench/.work from `npm run bench` (model files and request bodies).
#   bash bench/c1-stages/run.sh [requests=300]
# MODELS="tiny-mlp" picks the models; THINK_MS=11 makes the client idle that long before each request
# (an idle core without a model's compute: tells the VM's idle wake-up from the weights' cache traffic).
set -e
cd "$(dirname "$0")/../.."
ROOT=$PWD; N=${1:-300}; W=$(mktemp -d /tmp/mp-c1-XXXX)
git worktree add -q --detach "$W/tree" HEAD
trap 'pkill -f "port 8050" || true; git -C "$ROOT" worktree remove --force "$W/tree"; rm -rf "$W"' EXIT
git -C "$W/tree" apply "$ROOT/bench/c1-stages/timestamps.patch"
ln -s "$ROOT/node_modules" "$W/tree/node_modules"
for model in ${MODELS:-wide-mlp tiny-mlp}; do
  n=$N; [ $model = tiny-mlp ] && n=$((N * 10))  # the tiny path needs more requests to warm up its JIT
  echo "== $model, $n requests at concurrency 1 (ms)"
  (cd "$W/tree" && bash "$ROOT/bench/c1-stages/run-one.sh" "$ROOT" "$W" $model $n)
done
