// A third-party Mesos v1 operator client used by the mesoscaf tests: DC/OS's npm package @dcos/mesos-client
// (the one the DC/OS UI follows a Mesos master with), run under Node with jsdom standing in for the browser.
// It follows a master's SUBSCRIBE stream and prints one line per event for the tests to read:
//   subscribed tasks <n>            for SUBSCRIBED (not counted in --events)
//   event TASK_ADDED <task id>
//   event TASK_UPDATED <task id> <state>
//   event FRAMEWORK_ADDED <framework name>
//   event AGENT_ADDED <agent id>
//   event <TYPE>                    for any other event, HEARTBEAT included
// Usage: node follow.js --url=http://HOST:PORT [--events=N] [--timeout=SECONDS]
//   --events=N   exit 0 after N events past SUBSCRIBED (0, the default: follow until the stream ends)
//   --timeout=S  exit 6 after S seconds (default 120; 0: never)
// Exit codes: 0 done, 2 bad arguments, 3 the request failed, 4 an undecodable record, 5 the stream ended or was
// dropped, 6 timeout.
"use strict";

const { JSDOM } = require("jsdom");

function parseArgs(argv) {
  const args = { url: "", events: 0, timeout: 120 };
  for (const arg of argv) {
    const m = /^--([a-z]+)=(.*)$/.exec(arg);
    if (!m || !(m[1] in args)) {
      console.error(`unknown argument: ${arg}`);
      process.exit(2);
    }
    args[m[1]] = m[1] === "url" ? m[2] : Number(m[2]);
  }
  if (!/^https?:\/\//.test(args.url) || !Number.isInteger(args.events) || args.events < 0 ||
      !Number.isFinite(args.timeout) || args.timeout < 0) {
    console.error("usage: node follow.js --url=http://HOST:PORT [--events=N] [--timeout=SECONDS]");
    process.exit(2);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const base = args.url.replace(/\/+$/, "").replace(/\/api\/v1$/, "");

// The package's XHRConnection calls `new XMLHttpRequest()` as a global, as in a browser. The page's URL is the
// master's own origin, so jsdom's XHR sees a same-origin request and sends no CORS preflight.
const dom = new JSDOM("<!DOCTYPE html><title>mesoscaf npm operator client</title>", { url: `${base}/` });
global.window = dom.window;
global.document = dom.window.document;
global.XMLHttpRequest = dom.window.XMLHttpRequest;

// Required only once the globals are in place.
const { stream } = require("@dcos/mesos-client");

// stream(body, url) posts to `url` as given (its default is "/mesos/api/v1", the DC/OS admin router's prefix), so
// the master's own endpoint is passed explicitly. http-service adds "?_ts=<milliseconds>" to it.
const endpoint = `${base}/api/v1`;

function finish(code, line) {
  if (line)
    console.log(line);
  dom.window.close();
  process.exit(code);
}

function describe(event) {
  const v = (x) => (x && x.value !== undefined ? x.value : "?");
  switch (event.type) {
    case "TASK_ADDED":
      return `event TASK_ADDED ${v(event.task_added.task.task_id)}`;
    case "TASK_UPDATED": {
      const u = event.task_updated;
      return `event TASK_UPDATED ${v(u.status && u.status.task_id)} ${u.state}`;
    }
    case "FRAMEWORK_ADDED":
      return `event FRAMEWORK_ADDED ${event.framework_added.framework.framework_info.name}`;
    case "AGENT_ADDED":
      return `event AGENT_ADDED ${v(event.agent_added.agent.agent_info.id)}`;
    default:
      return `event ${event.type}`;
  }
}

let seen = 0;
let subscription = null;
subscription = stream({ type: "SUBSCRIBE" }, endpoint).subscribe({
  next(record) {
    // Each item is one RecordIO record's text: a JSON master::Event.
    let event;
    try {
      event = JSON.parse(record);
    } catch (e) {
      finish(4, `undecodable record: ${e.message}: ${String(record).slice(0, 200)}`);
      return;
    }
    if (event.type === "SUBSCRIBED") {
      const state = (event.subscribed && event.subscribed.get_state) || {};
      const tasks = (state.get_tasks && state.get_tasks.tasks) || [];
      console.log(`subscribed tasks ${tasks.length}`);
      return;
    }
    console.log(describe(event));
    seen += 1;
    if (args.events > 0 && seen >= args.events) {
      if (subscription)
        subscription.unsubscribe(); // aborts the XHR through the connection manager
      finish(0);
    }
  },
  error(err) {
    // http-service reports {code, message, response} from the XHR; code 0: no HTTP answer (refused, reset).
    const e = err || {};
    const what = e.code ? `${e.code} ${e.message || ""} ${String(e.response || "").slice(0, 200)}` : "no HTTP answer";
    finish(3, `stream failed: ${what}`.trim());
  },
  complete() {
    finish(5, "stream ended");
  },
});

// A response cut off before its end (the master killed, the connection reset) reaches neither XHR "load" nor
// "error" under jsdom on Node >= 15 (it drops the response's "aborted" error), so the package's Observable never
// ends; the connection gone, nothing is left to wait for and Node would exit 0. Say so instead.
process.on("beforeExit", () => finish(5, "stream dropped: the connection closed before the response ended"));

if (args.timeout > 0)
  setTimeout(() => finish(6, `timed out after ${args.timeout}s`), args.timeout * 1000).unref();
