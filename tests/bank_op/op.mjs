// The bank's OpenID Provider in the gateway's sign-in tests: panva's node-oidc-provider (the
// OpenID-certified Node.js provider) on 127.0.0.1, with its own login form.
//
//   node op.mjs PORT USERS_JSON
//
// - USERS_JSON: {"users": {"<login>": {"password": "…", "customer_id": "…"}}}; the ID token's
//   `sub` is the login and its `customer_id` claim (scope `bank`) the bank's customer id.
// - Clients register themselves (RFC 7591 dynamic registration is open: tests only), so each
//   test registers the gateway instance it starts, with its own redirect URI.
// - The login page asks for login and password, and offers Cancel (access_denied). A login
//   sets acr "urn:bank:loa:2" and amr ["pwd", "otp"]; consent at the bank is implicit.
// - Faults for the gateway's tests: POST /__test/fault {"mode": …} rewrites the next token
//   responses' ID tokens (wrong iss/aud/nonce, expired, alg none, HS256 with the client secret,
//   an unpublished kid, PS256/ES256 re-signing, a rotated key that is then published), or delays
//   the token endpoint (`slow`, `delay_ms`); `wrong_azp` adds an `azp` naming another client to
//   the single audience. {"mode": null, "acr": "…"} makes the next logins answer that acr
//   instead of "urn:bank:loa:2". {"mode": null} ends it. GET /__test/stats counts
//   the JWKS fetches (the gateway's key cache).

import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { SignJWT, decodeJwt, importJWK } from "jose";
import Provider from "oidc-provider";

const [port, usersFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const { users } = JSON.parse(readFileSync(usersFile, "utf8"));

function jwk(type, options, kid, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: "jwk" }), kid, alg, use: "sig" };
}
const rsa = jwk("rsa", { modulusLength: 2048 }, "op-rsa", "RS256");
const rsaPss = { ...rsa, kid: "op-rsa-pss", alg: "PS256" };
const ec = jwk("ec", { namedCurve: "P-256" }, "op-ec", "ES256");
const published = [rsa, rsaPss, ec];
const extra = []; // keys published after a rotation
let fault = { mode: null };
let jwksFetches = 0;

const provider = new Provider(issuer, {
  jwks: { keys: published },
  features: {
    registration: { enabled: true },
    devInteractions: { enabled: false },
  },
  pkce: { required: () => true },
  claims: { acr: null, amr: null, auth_time: null, sid: null, iss: null, openid: ["sub", "acr", "amr", "auth_time"], bank: ["customer_id"] },
  scopes: ["openid", "bank"],
  conformIdTokenClaims: false,
  acrValues: ["urn:bank:loa:1", "urn:bank:loa:2"],
  clientDefaults: { id_token_signed_response_alg: "RS256", grant_types: ["authorization_code"] },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, customer_id: users[sub]?.customer_id }),
  }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  ttl: { Session: 3600, Interaction: 600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Grant: 3600 },
});

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function sign(payload, key, alg = key.alg, kid = key.kid) {
  return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: "JWT" }).sign(await importJWK(key, alg));
}

async function rewrite(idToken) {
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  switch (fault.mode) {
    case "wrong_iss": return sign({ ...claims, iss: "https://op.attacker.example" }, rsa);
    case "wrong_aud": return sign({ ...claims, aud: "another-client" }, rsa);
    case "wrong_azp": return sign({ ...claims, azp: "another-client" }, rsa);
    case "wrong_nonce": return sign({ ...claims, nonce: "not-the-nonce" }, rsa);
    case "expired": return sign({ ...claims, iat: now - 900, exp: now - 600 }, rsa);
    case "no_customer": return sign({ ...claims, customer_id: "cus_nobody_at_this_bank" }, rsa);
    case "old_auth_time": return sign({ ...claims, auth_time: now - 3600 }, rsa);
    case "alg_none": return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    case "hs256": {
      const secret = new TextEncoder().encode(fault.secret);
      return new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "op-rsa" }).sign(secret);
    }
    case "unknown_kid": return sign(claims, jwk("ec", { namedCurve: "P-256" }, "unpublished", "ES256"));
    case "ps256": return sign(claims, rsaPss);
    case "es256": return sign(claims, ec);
    case "rotate": {
      const key = jwk("ec", { namedCurve: "P-256" }, `op-rotated-${extra.length + 1}`, "ES256");
      extra.push(key);
      return sign(claims, key);
    }
    default: return idToken;
  }
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><h1>${title}</h1>${body}</body></html>`;
}

async function text(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
const form = async (req) => new URLSearchParams(await text(req));

provider.use(async (ctx, next) => {
  if (ctx.path === "/__test/stats") {
    ctx.body = { jwks_fetches: jwksFetches };
    return;
  }
  if (ctx.path === "/jwks") jwksFetches += 1;
  if (ctx.path === "/__test/fault" && ctx.method === "POST") {
    fault = JSON.parse(await text(ctx.req));
    ctx.body = { ok: true };
    return;
  }
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login|\/abort)?$/);
  if (match) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const [, uid, action] = match;
    if (action === "/abort") {
      const to = await provider.interactionResult(ctx.req, ctx.res, {
        error: "access_denied", error_description: "End-User aborted interaction",
      }, { mergeWithLastSubmission: false });
      return ctx.redirect(to);
    }
    if (details.prompt.name === "consent") {
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      grant.addOIDCClaims(["acr", "amr", "auth_time", ...(details.prompt.details.missingOIDCClaims ?? [])]);
      const grantId = await grant.save();
      const to = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return ctx.redirect(to);
    }
    if (action === "/login" && ctx.method === "POST") {
      const data = await form(ctx.req);
      const user = users[data.get("login")];
      if (!user || user.password !== data.get("password")) {
        ctx.status = 401;
        ctx.type = "html";
        ctx.body = page("Sign in to the bank", `<p id="error">Wrong login or password.</p>`);
        return;
      }
      const to = await provider.interactionResult(ctx.req, ctx.res, {
        login: { accountId: data.get("login"), acr: fault.acr ?? "urn:bank:loa:2", amr: ["pwd", "otp"] },
      }, { mergeWithLastSubmission: false });
      return ctx.redirect(to);
    }
    ctx.type = "html";
    ctx.body = page("Sign in to the bank", `
<form method="post" action="/interaction/${uid}/login">
  <label>Login <input name="login" id="login" autocomplete="username"></label>
  <label>Password <input name="password" id="password" type="password"></label>
  <button type="submit" id="submit">Sign in</button>
</form>
<p><a id="cancel" href="/interaction/${uid}/abort">Cancel</a></p>`);
    return;
  }
  if (ctx.path === "/token" && fault.mode === "slow") {
    await new Promise((resolve) => setTimeout(resolve, fault.delay_ms ?? 3000));
  }
  await next();
  if (ctx.path === "/jwks" && ctx.body?.keys) {
    const pub = ({ d, p, q, dp, dq, qi, ...key }) => key;
    ctx.body = { keys: [...ctx.body.keys, ...extra.map(pub)] };
  }
  if (ctx.path === "/token" && ctx.status === 200 && ctx.body?.id_token && fault.mode) {
    ctx.body = { ...ctx.body, id_token: await rewrite(ctx.body.id_token) };
  }
});

provider.on("server_error", (_ctx, error) => console.error("server_error", error.message));
provider.listen(Number(port), "127.0.0.1", () => {
  console.log(JSON.stringify({ issuer, node: process.version }));
});
