// What went wrong with a sign-in through the provider: a short reason (audited with
// auth.sign_in_failed, carried to the sign-in page as ?oidc_error=) and the words a person can act on.
import * as client from "openid-client";

const MESSAGES: Record<string, string> = {
  not_configured:
    "Sign-in with the identity provider is not set up on this console. Use your Keel e-mail and password, or ask an admin.",
  bad_settings:
    "The identity provider's settings on this console cannot be read (a bad KEEL_OIDC_ROLE_MAP, or a client secret sealed under another KEEL_SECRET). An admin must fix them; the console's log says which.",
  bad_state:
    "This sign-in answer does not belong to a sign-in started in this browser (its state does not match). Start again from the sign-in page.",
  replayed_or_expired:
    "This sign-in link was already used or is older than 10 minutes. Start again from the sign-in page.",
  code_refused:
    "The identity provider refused the sign-in code: it was already used or has expired. Start again from the sign-in page.",
  wrong_audience:
    "The identity provider's ID token was made for another application (its audience is not this console's client id). Check the client id in Settings, then start again.",
  wrong_issuer:
    "The ID token was not issued by the configured identity provider. Check the issuer URL in Settings.",
  bad_nonce:
    "The ID token does not answer this sign-in (its nonce does not match): it may have been replayed. Start again from the sign-in page.",
  expired_token:
    "The identity provider's ID token has expired (or this console's clock is off by more than 30 seconds). Start again; if it keeps happening, check the clocks.",
  bad_token:
    "The identity provider's answer could not be verified (signature, claims or format). Start again; if it keeps happening, check the issuer URL in Settings.",
  provider_unreachable:
    "The identity provider cannot be reached or answered wrongly. Try again later; admins can still sign in with the break-glass account.",
  no_roles:
    "Your groups at the identity provider grant no role in Keel. Ask the people who manage Keel's groups at the provider to add you.",
  disabled: "Your Keel account is disabled. Ask a Keel admin.",
  email_taken:
    "A local Keel account already uses your e-mail address. Keel never joins accounts by e-mail alone: ask a Keel admin to disable or remove the local account, then sign in again.",
  local_sign_in_off: "Sign-in with a password is turned off on this console: use the identity provider.",
};

/** The message for a reason (an unknown one — e.g. provider_access_denied — says what the provider said). */
export function oidcMessage(reason: string): string {
  const known = MESSAGES[reason];
  if (known) return known;
  const what = /^provider_[a-z_]{1,40}$/.test(reason) ? reason.slice("provider_".length) : "error";
  return `The identity provider refused the sign-in (${what}). Start again, or ask your identity provider's admins.`;
}

type ErrLike = { code?: string; error?: string; message?: string; cause?: unknown };

/** The reason for an error thrown while talking to the provider or checking its answer. */
export function reasonOf(e: unknown): string {
  let err = e as ErrLike;
  // openid-client wraps oauth4webapi's errors; the inner one has the code and the claim.
  if (e instanceof client.ClientError && err.cause && typeof err.cause === "object" && "code" in err.cause)
    err = err.cause as ErrLike;
  const claim = (err.cause as { claim?: string } | undefined)?.claim;
  switch (err.code) {
    case "OAUTH_JWT_CLAIM_COMPARISON_FAILED":
      return claim === "aud" || claim === "azp"
        ? "wrong_audience"
        : claim === "nonce"
          ? "bad_nonce"
          : claim === "iss"
            ? "wrong_issuer"
            : "bad_token";
    case "OAUTH_JWT_TIMESTAMP_CHECK_FAILED":
      return "expired_token";
    case "OAUTH_RESPONSE_BODY_ERROR":
    case "OAUTH_AUTHORIZATION_RESPONSE_ERROR":
      return err.error === "invalid_grant"
        ? "code_refused"
        : /^[a-z_]{1,40}$/.test(err.error ?? "")
          ? `provider_${err.error}`
          : "provider_error";
    case "OAUTH_INVALID_RESPONSE":
      return /"state"/.test(err.message ?? "") ? "bad_state" : "bad_token";
  }
  if (
    err.code?.startsWith("OAUTH_JWS") ||
    err.code === "OAUTH_KEY_SELECTION_FAILED" ||
    err.code === "OAUTH_PARSE_ERROR"
  )
    return "bad_token";
  return "provider_unreachable";
}
