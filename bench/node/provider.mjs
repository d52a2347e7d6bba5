// panva's node-oidc-provider (the OpenID-certified Node.js authorization server) set up for the
// gateway's FAPI 2.0 scenario, as the yardstick of bench/flows.py:
//
//   node provider.mjs PORT RECIPIENT_JSON
//
// - the same client: the gateway's demo recipient (config/demo/recipient.json), private_key_jwt
//   with ES256 and the same public key, the same redirect URI;
// - PAR required, PKCE S256 required, DPoP-bound tokens (ES256 proofs, no server nonce, as the
//   gateway's default), the FAPI 2.0 profile switched on;
// - JWT access tokens (RFC 9068) signed ES256 for the FDX API as resource, 300 s, as the
//   gateway's; codes live 60 s; refresh tokens rotate on every use, as the gateway's do;
// - client_credentials for the consent-management scope, as the gateway's Consent API;
// - sign-in and consent by the provider's own HTML forms (devInteractions), every flow a new
//   browser session, so every flow signs in and consents, as on the gateway.
//
// Storage is the provider's own in-process adapter (an LRU in memory), the counterpart of the
// gateway's embedded default, but with room for a million items instead of its quick-start
// thousand (each flow stores half a dozen: at benchmark rates the default evicts live codes and
// grants within seconds). The gateway's durable records (SQLite) are on disk, which is more work. What node-oidc-provider does not do here: FDX authorization_details (RAR) and the
// consent record the gateway keeps for every grant, its audit trail and its sign-in against the
// bank adapter. docs/performance.md states this beside the figures.

import { randomBytes, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";
import MemoryAdapter from "oidc-provider/lib/adapters/memory_adapter.js";
import LRU from "oidc-provider/lib/helpers/lru.js";

const [port, recipientFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const recipient = JSON.parse(readFileSync(recipientFile, "utf8"));
const API = `${issuer}/fdx/v6`;
const FDX_SCOPES = [
  "fdx:accountbasic:read", "fdx:accountdetailed:read", "fdx:transactions:read",
  "fdx:customercontact:read",
];
const MANAGE = "fdx:consents:manage";

const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const signing = { ...privateKey.export({ format: "jwk" }), kid: "bench-es256", alg: "ES256", use: "sig" };

const storage = new LRU({ maxSize: 1_000_000 });

const provider = new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, storage),
  clients: [{
    client_id: recipient.client_id,
    client_name: recipient.client_name,
    redirect_uris: recipient.redirect_uris,
    response_types: ["code"],
    grant_types: ["authorization_code", "refresh_token", "client_credentials"],
    token_endpoint_auth_method: "private_key_jwt",
    token_endpoint_auth_signing_alg: "ES256",
    jwks: recipient.jwks,
    dpop_bound_access_tokens: true,
    id_token_signed_response_alg: "ES256",
    scope: ["offline_access", ...FDX_SCOPES, MANAGE].join(" "),
  }],
  jwks: { keys: [signing] },
  clientAuthMethods: ["private_key_jwt"],
  enabledJWA: {
    clientAuthSigningAlgValues: ["ES256"],
    dPoPSigningAlgValues: ["ES256"],
    idTokenSigningAlgValues: ["ES256"],
  },
  scopes: ["openid", "offline_access", ...FDX_SCOPES, MANAGE],
  pkce: { required: () => true },
  features: {
    fapi: { enabled: true, profile: "2.0" },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    dPoP: { enabled: true },
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: [...FDX_SCOPES, MANAGE].join(" "),
        audience: API,
        accessTokenTTL: 300,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "ES256" } },
      }),
    },
  },
  ttl: {
    AccessToken: 300,
    AuthorizationCode: 60,
    ClientCredentials: 300,
    IdToken: 300,
    Interaction: 900,
    Session: 1800,
    Grant: 90 * 86400,
    RefreshToken: 90 * 86400,
  },
  rotateRefreshToken: true,
  issueRefreshToken: (_ctx, client, code) =>
    client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  cookies: { keys: [randomBytes(32).toString("hex")] },
});

// Nothing per request on the console, as the gateway's access log is off.
provider.on("server_error", (_ctx, error) => console.error("server_error", error.message));
provider.listen(Number(port), "127.0.0.1", () => {
  console.log(JSON.stringify({ issuer, node: process.version }));
});
