// The few parts of `oidc-provider` (it ships no types) that server/test/oidc-provider.ts uses.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";
  type Ctx = {
    oidc: {
      session?: { accountId?: string };
      client?: { clientId: string };
      provider: {
        Grant: new (o: { clientId: string; accountId: string }) => {
          addOIDCScope(s: string): void;
          save(): Promise<string>;
        };
      };
    };
  };
  type Client = { grantTypeAllowed(t: string): boolean };
  export default class Provider {
    constructor(
      issuer: string,
      config: {
        clients: Record<string, unknown>[];
        jwks: { keys: unknown[] };
        cookies: { keys: string[] };
        claims: Record<string, string[]>;
        conformIdTokenClaims: boolean;
        ttl: Record<string, number>;
        features: Record<string, unknown>;
        interactions: { url(ctx: Ctx, interaction: { uid: string }): string };
        issueRefreshToken(ctx: Ctx, client: Client): Promise<boolean>;
        loadExistingGrant(ctx: Ctx): Promise<unknown>;
        findAccount(
          ctx: Ctx,
          sub: string,
        ): Promise<{ accountId: string; claims(): Promise<Record<string, unknown>> } | undefined>;
      },
    );
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(
      req: IncomingMessage,
      res: ServerResponse,
    ): Promise<{ uid: string; prompt: { name: string } }>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      opts?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }
}
