#!/usr/bin/env bash
# Classifies every text file in examples/pipelines/texts with an embedded queue and an in-process worker.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx tsx scripts/prepare-examples.ts >/dev/null
exec node --import tsx src/cli/main.ts pipeline run classify-texts \
  --pipelines examples/pipelines/text-pipeline.ts --repository examples/models --data-dir .data/example --with-worker 4 \
  --key-prefix example --input examples/pipelines/texts/*.txt "$@"
