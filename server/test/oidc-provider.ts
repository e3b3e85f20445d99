// A real OpenID provider for tests: `oidc-provider` (the certified Node implementation) on a loopback
// port, with the accounts and groups the test sets. Its login page asks only for a user name (no
// password: the provider's own authentication is not what Keel's tests test); consent is implied.
// `tamper` re-signs the ID token of the next code exchange with the provider's own key after
// changing claims — what a misconfigured or hostile provider (or a token substitution) looks like
// to Keel; it is how the tests make a wrong audience, an expired token or a foreign nonce.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export type TestAccount = { email: string; name: string; groups: string[] };
export type TestProvider = {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  /** Changes the claims of the next ID token issued for a code. */
  tamper(change: (claims: Record<string, unknown>) => void): void;
  close(): Promise<void>;
};

const LOGIN_PAGE = (uid: string) => `<!doctype html><title>Test identity provider</title>
<h1>Test identity provider</h1>
<form method="post" action="/interaction/${uid}/login"><label>User name <input name="login" autofocus></label>
<button type="submit">Continue</button></form>`;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function b64url(v: Buffer | string): string {
  return Buffer.from(v).toString("base64url");
}

export async function startTestProvider(opts: {
  redirectUris: string[];
  port?: number;
  clientId?: string;
  clientSecret?: string;
}): Promise<TestProvider> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: "jwk" }), kid: "test-key", alg: "RS256", use: "sig" };
  const accounts = new Map<string, TestAccount>();
  const clientId = opts.clientId ?? "keel";
  const clientSecret = opts.clientSecret ?? randomBytes(16).toString("hex");
  let tamper: ((c: Record<string, unknown>) => void) | null = null;

  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(opts.port ?? 0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
      },
    ],
    jwks: { keys: [jwk as never] },
    cookies: { keys: [randomBytes(16).toString("hex")] },
    claims: { openid: ["sub"], email: ["email"], profile: ["name", "groups"] },
    conformIdTokenClaims: false,
    ttl: {
      Interaction: 600,
      Session: 3600,
      Grant: 86_400,
      AccessToken: 600,
      IdToken: 600,
      RefreshToken: 86_400,
      AuthorizationCode: 60,
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // Refresh tokens without prompt=consent (Keycloak's default; Entra's with offline_access).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    async loadExistingGrant(ctx) {
      const accountId = ctx.oidc.session!.accountId!;
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId });
      grant.addOIDCScope("openid email profile offline_access");
      await grant.save();
      return grant;
    },
    async findAccount(_ctx, sub) {
      const a = accounts.get(sub);
      if (!a) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: a.email, name: a.name, groups: a.groups }),
      };
    },
  });
  const handle = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse) {
    const details = await provider.interactionDetails(req, res);
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html" }).end(LOGIN_PAGE(details.uid));
      return;
    }
    const login = (await readForm(req)).get("login") ?? "";
    if (!accounts.has(login)) {
      res
        .writeHead(200, { "content-type": "text/html" })
        .end(`<p role="alert">No such user: ${login.replace(/[<&"]/g, "")}</p>${LOGIN_PAGE(details.uid)}`);
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: login } },
      { mergeWithLastSubmission: false },
    );
  }

  // The token response, with its ID token re-signed after `tamper` changed its claims.
  function tampered(res: ServerResponse, change: (c: Record<string, unknown>) => void) {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((c: Buffer | string) => (chunks.push(Buffer.from(c)), true)) as typeof res.write;
    res.end = ((c?: Buffer | string) => {
      if (c && typeof c !== "function") chunks.push(Buffer.from(c));
      let body = Buffer.concat(chunks).toString("utf8");
      const json = JSON.parse(body) as { id_token?: string };
      if (json.id_token) {
        const [h, p] = json.id_token.split(".");
        const claims = JSON.parse(Buffer.from(p!, "base64url").toString("utf8")) as Record<string, unknown>;
        change(claims);
        const input = `${h}.${b64url(JSON.stringify(claims))}`;
        const sig = sign(
          "sha256",
          Buffer.from(input),
          createPrivateKey({ key: jwk as never, format: "jwk" }),
        );
        json.id_token = `${input}.${b64url(sig)}`;
        body = JSON.stringify(json);
        res.setHeader("content-length", Buffer.byteLength(body));
      }
      write(body);
      return end();
    }) as typeof res.end;
  }

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith("/interaction/")) {
      interaction(req, res).catch((e: Error) => res.writeHead(500).end(e.message));
      return;
    }
    if (req.method === "POST" && req.url === "/token" && tamper) {
      const change = tamper;
      tamper = null;
      tampered(res, change);
    }
    handle(req, res);
  });

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    tamper: (change) => void (tamper = change),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
