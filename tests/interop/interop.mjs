// The whole consent-to-data flow against a running gateway, driven by panva's certified
// openid-client (v6): discovery, PAR + PKCE + private_key_jwt + DPoP (server nonces included),
// sign-in and consent by form submission, code exchange (iss checked, RFC 9207), an FDX call
// with DPoP, refresh, introspection and revocation.
//
//   node interop.mjs ISSUER CLIENT_ID PRIVATE_JWKS_FILE REDIRECT_URI USERNAME PASSWORD
//
// Prints one JSON line of what happened (never a token) and exits 0, or names the failed step
// on stderr and exits 1. tests/interop/test_openid_client.py runs it.

import { readFileSync } from "node:fs";
import * as client from "openid-client";

const [issuer, clientId, jwksFile, redirectUri, username, password] = process.argv.slice(2);
const summary = {};
let step = "start";

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// --- a small browser: keeps cookies, follows nothing by itself, submits HTML forms -----------

const jar = new Map();

async function browse(url, init = {}) {
  const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const headers = { ...(init.headers ?? {}), ...(cookie ? { cookie } : {}) };
  const response = await fetch(url, { ...init, headers, redirect: "manual" });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const at = pair.indexOf("=");
    const name = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (/max-age=0/i.test(line) || value === '""' || value === "") jar.delete(name);
    else jar.set(name, value);
  }
  return response;
}

async function follow(url, init) {
  let response = await browse(url, init);
  let current = new URL(url);
  while ([301, 302, 303, 307].includes(response.status)) {
    const next = new URL(response.headers.get("location"), current);
    // Through the gateway and, with login = "oidc", the bank's OpenID Provider; never the app.
    if (next.href.startsWith(redirectUri)) return { response, url: next };
    current = next;
    response = await browse(next);
  }
  return { response, url: current };
}

function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
    out[m[1].toLowerCase()] = unescape(m[2] ?? m[3] ?? m[4] ?? "");
  }
  return out;
}

function unescape(text) {
  return text
    .replaceAll("&amp;", "&").replaceAll("&quot;", '"').replaceAll("&#39;", "'")
    .replaceAll("&#x27;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
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

function fill(form, values) {
  const body = new URLSearchParams();
  for (const i of form.inputs) {
    if (!i.name) continue;
    const type = (i.type ?? "text").toLowerCase();
    if (type === "hidden" || (type === "checkbox" && !("disabled" in i))) {
      body.append(i.name, i.value || "on");
    }
  }
  for (const [k, v] of Object.entries(values)) body.set(k, v);
  return body;
}

async function submit(pageUrl, form, values) {
  return follow(new URL(form.action, pageUrl), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: fill(form, values),
  });
}

// --- the relying party -------------------------------------------------------------------------

async function main() {
  const jwk = JSON.parse(readFileSync(jwksFile, "utf8")).keys[0];
  const key = await crypto.subtle.importKey(
    "jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"],
  );

  step = "discovery";
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    { redirect_uris: [redirectUri], token_endpoint_auth_method: "private_key_jwt" },
    client.PrivateKeyJwt({ key, kid: jwk.kid }),
    { execute: [client.allowInsecureRequests] }, // http on 127.0.0.1 only
  );
  const meta = config.serverMetadata();
  check(meta.issuer === issuer, "discovered issuer differs");
  summary.discovery = { issuer: meta.issuer, par_required: meta.require_pushed_authorization_requests };

  step = "par";
  const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const details = [{
    type: "fdx_v1.0",
    consentRequest: {
      durationType: "TIME_BOUND", durationPeriod: 90, lookbackPeriod: 365,
      resources: [{ resourceType: "ACCOUNT", dataClusters: ["ACCOUNT_BASIC", "TRANSACTIONS"] }],
      purpose: "Interoperability check with openid-client.",
    },
  }];
  const authorizationUrl = await client.buildAuthorizationUrlWithPAR(
    config,
    {
      redirect_uri: redirectUri,
      scope: "offline_access",
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      authorization_details: JSON.stringify(details),
    },
    { DPoP: dpop },
  );
  summary.par = { request_uri_issued: authorizationUrl.searchParams.has("request_uri") };

  step = "sign-in";
  let { response, url } = await follow(authorizationUrl);
  check(response.status === 200, `authorize answered ${response.status}`);
  const [login] = forms(await response.text());
  // The gateway's sign-in form (username) or the bank's OpenID Provider's (login).
  ({ response, url } = await submit(url, login, { username, login: username, password }));
  check(response.status === 200, `sign-in answered ${response.status}`);

  step = "consent";
  const consent = forms(await response.text()).find((f) =>
    f.inputs.some((i) => i.value === "approve"));
  check(consent, "no consent form");
  ({ response, url } = await submit(url, consent, { decision: "approve" }));
  check(url.href.startsWith(redirectUri), "consent did not return to the app");
  summary.callback = { iss: url.searchParams.get("iss") === issuer, state: url.searchParams.get("state") === state };

  step = "token";
  const tokens = await client.authorizationCodeGrant(
    config, url, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: dpop },
  );
  check(tokens.token_type.toLowerCase() === "dpop", `token_type ${tokens.token_type}`);
  summary.token = { token_type: tokens.token_type, refresh: Boolean(tokens.refresh_token), grant_id: Boolean(tokens.grant_id) };

  step = "fdx";
  const api = new URL("/fdx/v6/accounts", issuer);
  const accounts = await client.fetchProtectedResource(
    config, tokens.access_token, api, "GET", undefined, undefined, { DPoP: dpop },
  );
  check(accounts.status === 200, `FDX /accounts answered ${accounts.status}`);
  summary.fdx = { status: accounts.status, accounts: (await accounts.json()).accounts.length };

  step = "refresh";
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
  check(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token, "refresh token not rotated");
  summary.refresh = { rotated: true, token_type: refreshed.token_type };

  step = "introspection";
  const active = await client.tokenIntrospection(config, refreshed.access_token);
  check(active.active === true, "fresh access token reported inactive");
  summary.introspection = { active: active.active, dpop_bound: Boolean(active.cnf?.jkt) };

  step = "revocation";
  await client.tokenRevocation(config, refreshed.refresh_token, { token_type_hint: "refresh_token" });
  let status;
  let challenge;
  try {
    status = (await client.fetchProtectedResource(
      config, refreshed.access_token, api, "GET", undefined, undefined, { DPoP: dpop },
    )).status;
  } catch (error) {
    // A 401 with a WWW-Authenticate challenge is how the consent's end must look (RFC 9449 §7.1).
    if (!(error instanceof client.WWWAuthenticateChallengeError)) throw error;
    status = error.status;
    challenge = error.cause?.[0]?.scheme;
  }
  const inactive = await client.tokenIntrospection(config, refreshed.access_token);
  summary.revocation = { fdx_status_after: status, challenge, active_after: inactive.active };
  check(status === 401, `FDX after revocation answered ${status}`);
  check(inactive.active === false, "revoked consent's access token still active");

  summary.ok = true;
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  // The step and the error's kind and message; openid-client's messages carry no token.
  console.error(`interop failed at ${step}: ${error.name}: ${error.message}` +
    (error.code ? ` (${error.code})` : "") + (error.error ? ` [${error.error}]` : ""));
  console.error(JSON.stringify(summary));
  process.exit(1);
});
