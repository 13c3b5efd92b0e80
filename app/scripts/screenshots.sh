#!/usr/bin/env bash
# screenshots.sh — refresh the README screenshots on purpose (`npm run screenshots`); tests never
# write tracked files. Takes the workbench shots (app/scripts/screenshots.ts → workbench-dark/light)
# and reruns the end-to-end tests whose stops the READMEs show with LANESCOPE_README_SHOTS=1,
# which copies their readme/ shots (debugging.png, ipc-break.png, scheduler.png, sysfs.png) into resources/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/../.."
node app/scripts/build.mjs
node --import tsx app/scripts/screenshots.ts
LANESCOPE_README_SHOTS=1 node --import tsx --test --test-concurrency=1 app/test/e2e/debug.test.ts app/test/e2e/ipc-break.test.ts app/test/e2e/sched-view.test.ts app/test/e2e/sysfs-view.test.ts
git status --short resources/screenshots
