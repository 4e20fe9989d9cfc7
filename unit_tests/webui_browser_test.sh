#!/usr/bin/env bash
# The web UI in a real browser (CTest `webui_browser`): starts `mesoscaf local` with one agent, runs a long task
# through `mesoscaf execute`, waits until the master reports it TASK_RUNNING, then lets headless Chromium (Debian's
# chromium) load the master's page at #/tasks/<framework>/<task> and checks what a person would see there: the task
# in the tasks table as running, and its stdout line in the sandbox viewer (tailed from the agent's /files/read).
# Leaves webui.png (a screenshot) and webui-dom.html (the page as rendered) in ARTIFACT_DIR.
#
# Usage: webui_browser_test.sh MESOSCAF_BINARY ARTIFACT_DIR
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 MESOSCAF_BINARY ARTIFACT_DIR" >&2
  exit 2
fi
mesoscaf=$1
artifacts=$2
chromium=${CHROMIUM:-/usr/bin/chromium}
marker=hello-from-browser-test

fail() {
  echo "webui_browser: FAIL: $*" >&2
  exit 1
}

[ -x "$chromium" ] || fail "no Chromium at $chromium: install Debian's chromium (scripts/setup does) or set CHROMIUM"
command -v curl >/dev/null || fail "curl is missing: install it (scripts/setup does)"
command -v jq >/dev/null || fail "jq is missing: install it (scripts/setup does)"
[ -x "$mesoscaf" ] || fail "no mesoscaf binary at $mesoscaf"
mkdir -p "$artifacts"

work=$(mktemp -d "${TMPDIR:-/tmp}/mesoscaf-webui-test.XXXXXX")
local_pid=""
execute_pid=""

# Stops what this script started: the framework first (its task is killed with it), then the cluster, each with a
# bounded wait before SIGKILL.
stop_process() {
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.2
  done
  echo "webui_browser: pid $pid did not stop within 30 s, killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_process "$execute_pid"
  stop_process "$local_pid"
  if [ "$rc" -ne 0 ]; then
    for log in local.log execute.log chromium.log; do
      [ -f "$work/$log" ] && { echo "--- $log (last 40 lines)"; tail -n 40 "$work/$log"; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $1 seconds for the pattern $2 in the file $3; prints the first matching line.
wait_for_line() {
  local seconds=$1 pattern=$2 file=$3
  for _ in $(seq 1 $((seconds * 5))); do
    if grep -m1 -E "$pattern" "$file" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# --- the cluster
"$mesoscaf" local --agents=1 --http-port=0 --work-dir="$work/cluster" >"$work/local.log" 2>&1 &
local_pid=$!
caf_line=$(wait_for_line 60 '^master listening on ' "$work/local.log") || fail "mesoscaf local printed no 'master listening on' line within 60 s"
http_line=$(wait_for_line 60 '^master http listening on ' "$work/local.log") || fail "mesoscaf local printed no 'master http listening on' line within 60 s"
wait_for_line 60 '^local cluster ready' "$work/local.log" >/dev/null || fail "the local cluster was not ready within 60 s"
master=${caf_line#master listening on }
http=${http_line#master http listening on }
echo "webui_browser: cluster up, master $master, HTTP $http"

# --- the task
"$mesoscaf" execute --master="$master" --name=webui-browser-test --command="echo $marker; sleep 120" \
  --resources="cpus:0.1;mem:32" >"$work/execute.log" 2>&1 &
execute_pid=$!
framework_line=$(wait_for_line 60 '^subscribed framework_id=' "$work/execute.log") || fail "mesoscaf execute did not subscribe within 60 s"
framework=${framework_line#subscribed framework_id=}
launch_line=$(wait_for_line 60 '^launching task=' "$work/execute.log") || fail "mesoscaf execute launched no task within 60 s"
task=$(sed -E 's/^launching task=([^ ]+).*/\1/' <<<"$launch_line")

state=""
for _ in $(seq 1 300); do
  state=$(curl -sf --max-time 5 "http://$http/state" |
          jq -r --arg fw "$framework" --arg t "$task" \
             '[.frameworks[] | select(.id == $fw) | .tasks[] | select(.id == $t) | .state][0] // empty' || true)
  [ "$state" = TASK_RUNNING ] && break
  sleep 0.2
done
[ "$state" = TASK_RUNNING ] || fail "the master's /state did not show task $task TASK_RUNNING within 60 s (last: '${state:-absent}')"
echo "webui_browser: task $task of framework $framework is TASK_RUNNING"

# --- the browser
url="http://$http/#/tasks/$framework/$task"
browse() {
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$work/chromium-profile" \
    --virtual-time-budget=15000 "$@" "$url" 2>>"$work/chromium.log"
}

# The task's row and the viewer's stdout, as the page shows them after its polls.
row=""
stdout_text=""
for attempt in 1 2 3; do
  browse --dump-dom >"$artifacts/webui-dom.html" || fail "chromium --dump-dom failed on $url"
  row=$(grep -oE "<tr [^>]*data-task-id=\"$task\"[^>]*>.*" "$artifacts/webui-dom.html" | sed 's#</tr>.*##' || true)
  stdout_text=$(grep -oE 'id="sandbox-stdout">[^<]*' "$artifacts/webui-dom.html" | sed 's/^id="sandbox-stdout">//' || true)
  if [ -n "$row" ] && grep -q "^$marker\$" <<<"$stdout_text"; then
    break
  fi
  echo "webui_browser: attempt $attempt: the page does not show both yet, loading it again"
done
[ -n "$row" ] || fail "the tasks table has no row for task $task (page in $artifacts/webui-dom.html)"
grep -q 'data-state="TASK_RUNNING"' <<<"$row" || fail "task $task's row is not TASK_RUNNING: $row"
grep -q '>RUNNING<' <<<"$row" || fail "task $task's row does not show RUNNING: $row"
grep -q '>webui-browser-test<' <<<"$row" || fail "task $task's row does not show its name: $row"
status=$(grep -oE 'id="sandbox-status">[^<]*' "$artifacts/webui-dom.html" | sed 's/^id="sandbox-status">//' || true)
grep -q "^$marker\$" <<<"$stdout_text" ||
  fail "the sandbox viewer's stdout does not show '$marker' (viewer status: '$status'; stdout: '$stdout_text')"
echo "webui_browser: the tasks table shows $task RUNNING and the sandbox viewer shows its stdout '$marker'"

rm -f "$artifacts/webui.png"
browse --screenshot="$artifacts/webui.png" --window-size=1400,900 || fail "chromium --screenshot failed on $url"
[ -s "$artifacts/webui.png" ] || fail "chromium wrote no screenshot to $artifacts/webui.png"
echo "webui_browser: screenshot in $artifacts/webui.png"
echo "webui_browser: PASS"
