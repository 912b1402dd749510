// The HTTP API client: the token, JSON and multipart requests, problems as data, and long work
// as jobs (Prefer: respond-async, then GET /v1/jobs/{id} until it is done).
const TOKEN_KEY = "quotaplan.token";
let token = sessionStorage.getItem(TOKEN_KEY) || "";

export function setToken(value) {
  token = value.trim();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function getToken() {
  return token;
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One request: {ok, status, body} where body is the parsed JSON (a problem when !ok), or a Blob
// when `blob` is asked for. A request the server never answered is status 0 with a problem.
export async function request(method, path, opts = {}) {
  const init = { method, headers: headers(opts.headers) };
  if (opts.json !== undefined) {
    init.body = JSON.stringify(opts.json);
    init.headers["Content-Type"] = "application/json";
  } else if (opts.form) {
    init.body = opts.form;
  }
  if (opts.accept) init.headers["Accept"] = opts.accept;
  let resp;
  try {
    resp = await fetch(path.replace(/^\//, ""), init);
  } catch (e) {
    return { ok: false, status: 0, body: { title: "No answer", detail: `the server did not answer: ${e.message}` } };
  }
  if (opts.blob && resp.ok) return { ok: true, status: resp.status, body: await resp.blob(), headers: resp.headers };
  let body = null;
  try {
    body = await resp.json();
  } catch (e) {
    body = { title: `HTTP ${resp.status}`, detail: `the server answered ${resp.status} without a readable body` };
  }
  return { ok: resp.ok, status: resp.status, body, headers: resp.headers };
}

// Long work: sent with Prefer: respond-async; a 202 is polled until the job succeeds (then its
// result is read) or fails (then its problem is the answer, as the synchronous call's would be).
// onProgress(job) is called with each state seen.
export async function job(method, path, opts, onProgress) {
  const first = await request(method, path, { ...opts, headers: { ...(opts.headers || {}), Prefer: "respond-async" } });
  if (first.status !== 202) return first;
  let state = first.body;
  let delay = 80;
  for (;;) {
    if (onProgress) onProgress(state);
    if (state.state === "succeeded") return request("GET", state.result);
    if (state.state === "failed") {
      const p = state.problem || { title: "Job failed", detail: state.message };
      return { ok: false, status: p.status || 500, body: p };
    }
    await sleep(delay);
    delay = Math.min(400, delay * 1.5);
    const next = await request("GET", `v1/jobs/${state.id}`);
    if (!next.ok) return next;
    state = next.body;
  }
}
