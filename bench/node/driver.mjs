// The load generator of bench/flows.py: one client program for both authorization servers (the
// gateway and node-oidc-provider), so they are measured by the same code on the same core.
//
//   node driver.mjs '{"issuer": ..., "mode": "flows", "concurrency": 8, "seconds": 10, ...}'
//
// Modes (all with private_key_jwt ES256 client assertions and ES256 DPoP proofs):
//   flows    N workers run the whole flow in a loop for S seconds: PAR -> authorize -> sign-in
//            form -> consent form -> redirect with code (state and iss checked) -> token.
//   tokens   First N workers collect authorization codes by running flows up to the code (for
//            at most `collect` seconds or `codes` codes); then the codes are redeemed as fast as
//            N workers can (token requests/s for grant_type=authorization_code); then every
//            worker keeps one of the refresh tokens it got and rotates it for S seconds
//            (grant_type=refresh_token); then client_credentials for S seconds.
// In the timed token phases the client assertions and DPoP proofs are signed before the phase
// starts, so the phase measures the server, not this program's signing (each proof still has its
// own jti and is sent once). Prints one JSON object on stdout; never a token.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";

const cfg = JSON.parse(process.argv[2]);
const clientKey = createPrivateKey({ key: JSON.parse(readFileSync(cfg.jwks_file, "utf8")).keys[0], format: "jwk" });
const clientKid = JSON.parse(readFileSync(cfg.jwks_file, "utf8")).keys[0].kid;
// Kept-alive connections, replaced at the start of every timed phase: a server closes the ones
// left idle while the next phase's requests were being signed (uvicorn and node both after 5 s),
// and a request sent on such a socket fails with "socket hang up".
let agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

// --- JOSE, by hand: ES256 compact JWS with node:crypto --------------------------------------

const b64 = (data) => Buffer.from(data).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
const jti = () => randomBytes(12).toString("base64url");

function jws(header, claims, key) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${b64(sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }))}`;
}

function assertion() {
  const iat = now();
  // RFC 7523 §3; aud is the issuer (FAPI 2.0 §5.3.2.1), accepted by both servers.
  return jws({ alg: "ES256", kid: clientKid }, {
    iss: cfg.client_id, sub: cfg.client_id, aud: cfg.issuer, jti: jti(), iat, exp: iat + 60,
  }, clientKey);
}

function dpopKey() {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { kty, crv, x, y } = createPublicKey(privateKey).export({ format: "jwk" });
  return { privateKey, jwk: { kty, crv, x, y } };
}

function proof(key, method, url) {
  // RFC 9449 §4.2: htu without query and fragment.
  return jws({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk }, {
    jti: jti(), htm: method, htu: url.split("?")[0], iat: now(),
  }, key.privateKey);
}

// --- HTTP, with a cookie jar per flow (a browser session) ------------------------------------

function request(method, url, { headers = {}, body, jar } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { ...headers };
    if (body !== undefined) h["content-length"] = Buffer.byteLength(body);
    if (jar?.size) h.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          if (jar) keepCookies(jar, res.headers["set-cookie"] ?? []);
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function keepCookies(jar, lines) {
  for (const line of lines) {
    const [pair] = line.split(";");
    const at = pair.indexOf("=");
    const name = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (/max-age=0/i.test(line) || /expires=thu, 01 jan 1970/i.test(line) || value === "") jar.delete(name);
    else jar.set(name, value);
  }
}

const FORM = "application/x-www-form-urlencoded";

async function follow(jar, url, init = {}) {
  let res = await request(init.method ?? "GET", url, { ...init, jar });
  let current = new URL(url);
  while ([301, 302, 303, 307].includes(res.status)) {
    const next = new URL(res.headers.location, current);
    // The server's own pages and, for a gateway with login = "oidc", the bank's OpenID
    // Provider's (bench/login.py); never the app.
    if (next.href.startsWith(cfg.redirect_uri)) return { res, url: next };
    current = next;
    res = await request("GET", next.href, { jar });
  }
  return { res, url: current };
}

function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1].toLowerCase()] = (m[2] ?? m[3] ?? m[4] ?? "")
      .replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'")
      .replaceAll("&#x27;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  }
  return out;
}

function forms(html) {
  const found = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const form = { ...attributes(m[1]), inputs: [] };
    for (const i of m[2].matchAll(/<(input|button)\b([^>]*)>/gi)) form.inputs.push(attributes(i[2]));
    found.push(form);
  }
  return found;
}

// Sign-in and consent pages of either server: the form that approves if there is one, else the
// first; hidden fields and every enabled checkbox as the page gives them; the user's name and
// password under the names either server uses.
function answer(html) {
  const all = forms(html);
  const form = all.find((f) => f.inputs.some((i) => i.value === "approve")) ?? all[0];
  if (!form) throw new Error("page without a form");
  const body = new URLSearchParams();
  for (const i of form.inputs) {
    if (!i.name) continue;
    const type = (i.type ?? "text").toLowerCase();
    if (type === "hidden" || (type === "checkbox" && !("disabled" in i))) body.append(i.name, i.value || "on");
    else if (i.name === "username" || i.name === "login") body.set(i.name, cfg.username);
    else if (i.name === "password") body.set(i.name, cfg.password);
    else if (i.name === "decision" && i.value === "approve") body.set("decision", "approve");
  }
  return { action: form.action, body: body.toString() };
}

// --- the flow ---------------------------------------------------------------------------------

let meta;

async function discover() {
  const res = await request("GET", `${cfg.issuer}/.well-known/oauth-authorization-server`);
  const m = res.status === 200 ? JSON.parse(res.body)
    : JSON.parse((await request("GET", `${cfg.issuer}/.well-known/openid-configuration`)).body);
  if (m.issuer !== cfg.issuer) throw new Error("discovered issuer differs");
  return m;
}

async function toCode(key) {
  const verifier = b64(randomBytes(32));
  const state = b64(randomBytes(12));
  const par = meta.pushed_authorization_request_endpoint;
  const form = new URLSearchParams({
    response_type: "code",
    client_id: cfg.client_id,
    redirect_uri: cfg.redirect_uri,
    state,
    code_challenge: b64(createHash("sha256").update(verifier).digest()),
    code_challenge_method: "S256",
    ...cfg.par_params,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion(),
  });
  const pushed = await request("POST", par, {
    headers: { "content-type": FORM, dpop: proof(key, "POST", par) }, body: form.toString(),
  });
  if (pushed.status !== 201) throw new Error(`PAR ${pushed.status} ${pushed.body.slice(0, 200)}`);
  const { request_uri: requestUri } = JSON.parse(pushed.body);
  const jar = new Map();
  const start = `${meta.authorization_endpoint}?client_id=${encodeURIComponent(cfg.client_id)}&request_uri=${encodeURIComponent(requestUri)}`;
  let { res, url } = await follow(jar, start);
  for (let page = 0; page < 5 && res.status === 200; page++) {
    const { action, body } = answer(res.body);
    ({ res, url } = await follow(jar, new URL(action, url).href, {
      method: "POST", headers: { "content-type": FORM }, body,
    }));
  }
  if (!url.href.startsWith(cfg.redirect_uri)) throw new Error(`no redirect to the app (${res.status} ${res.body.slice(0, 200)})`);
  if (url.searchParams.get("state") !== state || url.searchParams.get("iss") !== cfg.issuer) {
    throw new Error("state or iss of the authorization response does not match");
  }
  return { code: url.searchParams.get("code"), verifier, key };
}

function tokenBody(params) {
  return new URLSearchParams({
    ...params,
    client_id: cfg.client_id,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion(),
  }).toString();
}

async function token(body, dpop) {
  const res = await request("POST", meta.token_endpoint, {
    headers: { "content-type": FORM, dpop }, body,
  });
  if (res.status !== 200) throw new Error(`token ${res.status} ${res.body.slice(0, 200)}`);
  const t = JSON.parse(res.body);
  if (String(t.token_type).toLowerCase() !== "dpop") throw new Error(`token_type ${t.token_type}`);
  // RFC 9068 JWT access tokens from both servers, or the comparison is not like for like.
  if (!/^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(t.access_token)) throw new Error("access token is not a JWT");
  return t;
}

function codeBody(c) {
  return tokenBody({ grant_type: "authorization_code", code: c.code, redirect_uri: cfg.redirect_uri, code_verifier: c.verifier });
}

// --- measurement ------------------------------------------------------------------------------

function summary(latencies, count, seconds, errors) {
  latencies.sort((a, b) => a - b);
  const at = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : 0);
  return {
    count, seconds: +seconds.toFixed(3), rate: +(count / seconds).toFixed(1),
    p50_ms: +at(0.5).toFixed(2), p99_ms: +at(0.99).toFixed(2), errors: errors.length,
    first_error: errors[0],
  };
}

// The server's CPU time so far (utime + stime of every thread, /proc/PID/stat), in ms.
function serverCpuMs() {
  if (!cfg.server_pid) return 0;
  const fields = readFileSync(`/proc/${cfg.server_pid}/stat`, "utf8").split(")").pop().trim().split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / (cfg.clock_ticks ?? 100);
}

async function timed(seconds, n, work) {
  const latencies = [];
  const errors = [];
  let count = 0;
  agent.destroy();
  agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const cpu0 = serverCpuMs();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: n }, async (_, w) => {
    while (performance.now() < end) {
      const s = performance.now();
      try {
        if ((await work(w)) === false) return;
        count++;
        latencies.push(performance.now() - s);
      } catch (e) {
        errors.push(String(e.message ?? e).slice(0, 300));
        if (errors.length > 50) return;
      }
    }
  }));
  const result = summary(latencies, count, (performance.now() - t0) / 1000, errors);
  result.server_cpu_ms_per_op = count ? +((serverCpuMs() - cpu0) / count).toFixed(3) : null;
  return result;
}

async function flows() {
  const keys = Array.from({ length: cfg.concurrency }, dpopKey);
  return timed(cfg.seconds, cfg.concurrency, async (w) => {
    const c = await toCode(keys[w]);
    await token(codeBody(c), proof(keys[w], "POST", meta.token_endpoint));
  });
}

async function tokens() {
  const n = cfg.concurrency;
  const keys = Array.from({ length: n }, dpopKey);
  // 1. codes (not timed as token requests)
  const codes = [];
  const collect = await timed(cfg.collect, n, async (w) => {
    if (codes.length >= cfg.codes) return false;
    codes.push(await toCode(keys[w]));
  });
  // 2. authorization_code: everything signed first, then redeemed as fast as possible
  const signed = codes.map((c) => ({ body: codeBody(c), dpop: proof(c.key, "POST", meta.token_endpoint), key: c.key }));
  const chains = new Map(); // one refresh token per DPoP key, the latest
  let next = 0;
  const exchange = await timed(600, n, async () => {
    const item = signed[next++];
    if (!item) return false;
    const t = await token(item.body, item.dpop);
    if (t.refresh_token) chains.set(item.key, t.refresh_token);
  });
  // 3. refresh_token: each worker rotates its own chain; assertions and proofs signed first
  const pool = Math.ceil((cfg.max_rate * cfg.seconds) / n) + 10;
  const workers = [...chains].slice(0, n).map(([key, rt]) => ({
    key, rt, items: Array.from({ length: pool }, () => ({ assertion: assertion(), dpop: proof(key, "POST", meta.token_endpoint) })),
  }));
  const refresh = await timed(cfg.seconds, workers.length, async (w) => {
    const me = workers[w];
    const item = me.items.pop();
    if (!item) return false;
    const body = new URLSearchParams({
      grant_type: "refresh_token", refresh_token: me.rt, client_id: cfg.client_id,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: item.assertion,
    }).toString();
    const t = await token(body, item.dpop);
    if (!t.refresh_token) throw new Error("no rotated refresh token");
    me.rt = t.refresh_token;
  });
  refresh.workers = workers.length;
  refresh.ran_out = workers.some((x) => x.items.length === 0);
  // 4. client_credentials
  const ccKey = dpopKey();
  const ccItems = Array.from({ length: cfg.max_rate * cfg.seconds }, () => ({
    body: tokenBody({ grant_type: "client_credentials", scope: cfg.cc_scope }),
    dpop: proof(ccKey, "POST", meta.token_endpoint),
  }));
  let ccNext = 0;
  const cc = await timed(cfg.seconds, n, async () => {
    const item = ccItems[ccNext++];
    if (!item) return false;
    await token(item.body, item.dpop);
  });
  cc.ran_out = ccNext >= ccItems.length;
  return { collect, authorization_code: exchange, refresh_token: refresh, client_credentials: cc };
}

meta = await discover();
const out = cfg.mode === "flows" ? { flows: await flows() } : await tokens();
console.log(JSON.stringify({ issuer: cfg.issuer, mode: cfg.mode, concurrency: cfg.concurrency, ...out }));
agent.destroy();
