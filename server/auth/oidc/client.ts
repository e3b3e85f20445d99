// The provider as openid-client sees it: discovered from the issuer's
// /.well-known/openid-configuration, cached for ten minutes per (issuer, client). Plain http is
// allowed only for a provider on this machine (a lab or test provider), never across a network.
import * as client from "openid-client";
import type { OidcSettings } from "./settings";

const CACHE_MS = 10 * 60_000;
const cache = new Map<string, { at: number; config: client.Configuration }>();

function isLoopback(url: URL): boolean {
  return url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
}

/** The discovered provider; throws (openid-client's errors, or fetch's) when it cannot be reached. */
export async function providerConfig(s: OidcSettings): Promise<client.Configuration> {
  const key = JSON.stringify([s.issuer, s.clientId, s.clientSecret]);
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.config;
  const issuer = new URL(s.issuer);
  const insecure = issuer.protocol === "http:" && isLoopback(issuer);
  const config = await client.discovery(
    issuer,
    s.clientId,
    undefined,
    s.clientSecret ? client.ClientSecretBasic(s.clientSecret) : client.None(),
    { timeout: 10, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) },
  );
  cache.set(key, { at: Date.now(), config });
  return config;
}

/** Forgets discovered providers (the settings changed). */
export function forgetProviders(): void {
  cache.clear();
}
