// Parsers for bulk import: the lab's inventory JSON, a CSV, and an OpenSSH ssh_config with a
// known_hosts file (hashed entries included). They only read text and return import entries; the
// caller validates and enrolls them.
import { createHash, createHmac } from "node:crypto";
import { parseLabelText, type TImportEntry } from "./host-input";

export type ParsedImport = { entries: TImportEntry[]; problems: string[] };

/** `npm run lab -- up` writes { hosts: [{ name, address, port, user, hostKeyFingerprint }] }. */
export function parseLabInventory(text: string): ParsedImport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { entries: [], problems: [`not JSON: ${(e as Error).message}`] };
  }
  const hosts = (doc as { hosts?: unknown })?.hosts;
  if (!Array.isArray(hosts))
    return { entries: [], problems: ["no `hosts` array: is this a lab inventory file?"] };
  const lab = (doc as { lab?: unknown }).lab;
  const entries: TImportEntry[] = [];
  const problems: string[] = [];
  hosts.forEach((h: Record<string, unknown>, i) => {
    if (typeof h?.name !== "string" || typeof h.address !== "string")
      return problems.push(`host #${i + 1}: name and address are required`);
    entries.push({
      name: h.name,
      address: h.address,
      port: typeof h.port === "number" ? h.port : 22,
      user: typeof h.user === "string" ? h.user : "root",
      fingerprint: typeof h.hostKeyFingerprint === "string" ? h.hostKeyFingerprint : null,
      labels: typeof lab === "string" && /^[A-Za-z0-9._:/@+-]{1,63}$/.test(lab) ? { lab } : {},
    });
  });
  return { entries, problems };
}

/** Split CSV text into records (RFC 4180: quoted fields, doubled quotes, CRLF). */
export function splitCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ""));
}

/** CSV with a header: name,address[,port,user,fingerprint,environment,labels,sudo_mode]. */
export function parseHostsCsv(text: string): ParsedImport {
  const rows = splitCsv(text);
  const header = (rows.shift() ?? []).map((h) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, "_"),
  );
  const col = (names: string[]) => header.findIndex((h) => names.includes(h));
  const c = {
    name: col(["name", "host", "hostname"]),
    address: col(["address", "ip", "addr"]),
    port: col(["port"]),
    user: col(["user", "username", "login"]),
    fingerprint: col(["fingerprint", "host_key_fingerprint", "hostkeyfingerprint"]),
    environment: col(["environment", "env"]),
    labels: col(["labels"]),
    sudo: col(["sudo_mode", "sudo"]),
  };
  if (c.name < 0 || c.address < 0)
    return { entries: [], problems: ["the header needs at least name and address columns"] };
  const entries: TImportEntry[] = [];
  const problems: string[] = [];
  rows.forEach((r, i) => {
    const get = (k: number) => (k >= 0 ? (r[k] ?? "").trim() : "");
    try {
      const port = get(c.port);
      entries.push({
        name: get(c.name),
        address: get(c.address),
        port: port ? Number(port) : 22,
        user: get(c.user) || "root",
        fingerprint: get(c.fingerprint) || null,
        environment: get(c.environment) || null,
        labels: get(c.labels) ? parseLabelText(get(c.labels)) : {},
        sudoMode: (get(c.sudo) || "none") as "none",
      });
    } catch (e) {
      problems.push(`line ${i + 2}: ${(e as Error).message}`);
    }
  });
  return { entries, problems };
}

const KEY_PREFERENCE = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "ssh-rsa",
];

/** Fingerprint of a known_hosts key for host/port, preferring the key type ssh2 negotiates first. */
export function fingerprintFromKnownHosts(knownHosts: string, host: string, port: number): string | null {
  const names = port === 22 ? [host, `[${host}]:22`] : [`[${host}]:${port}`];
  const found: { type: string; blob: Buffer }[] = [];
  for (const line of knownHosts.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const fields = t.split(/\s+/);
    // @revoked and @cert-authority lines do not name a host key to pin.
    if (fields[0]?.startsWith("@")) continue;
    const [pattern, type, b64] = fields;
    if (!pattern || !type || !b64) continue;
    const matches = pattern.startsWith("|1|")
      ? (() => {
          const [, , salt, hash] = pattern.split("|");
          if (!salt || !hash) return false;
          return names.some(
            (n) => createHmac("sha1", Buffer.from(salt, "base64")).update(n).digest("base64") === hash,
          );
        })()
      : pattern.split(",").some((p) => !p.startsWith("!") && names.includes(p));
    if (matches) found.push({ type, blob: Buffer.from(b64, "base64") });
  }
  found.sort((a, b) => rank(a.type) - rank(b.type));
  const best = found[0];
  return best ? `SHA256:${createHash("sha256").update(best.blob).digest("base64").replace(/=+$/, "")}` : null;
}
const rank = (t: string) => (KEY_PREFERENCE.indexOf(t) < 0 ? 99 : KEY_PREFERENCE.indexOf(t));

/** `Host` blocks of an ssh_config (no wildcards) → entries; fingerprints from known_hosts. */
export function parseSshConfig(config: string, knownHosts = ""): ParsedImport {
  const entries: TImportEntry[] = [];
  const problems: string[] = [];
  let current: { aliases: string[]; opts: Record<string, string> } | null = null;
  const flush = () => {
    if (!current) return;
    for (const alias of current.aliases) {
      if (/[*?!]/.test(alias)) continue;
      const address = current.opts.hostname ?? alias;
      const port = current.opts.port ? Number(current.opts.port) : 22;
      entries.push({
        name: alias,
        address,
        port,
        user: current.opts.user ?? "root",
        fingerprint:
          fingerprintFromKnownHosts(knownHosts, address, port) ??
          (address !== alias ? fingerprintFromKnownHosts(knownHosts, alias, port) : null),
      });
    }
  };
  for (const raw of config.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const m = /^(\S+?)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) continue;
    const k = m[1]!.toLowerCase();
    const v = m[2]!.trim().replace(/^"(.*)"$/, "$1");
    if (k === "host") {
      flush();
      current = { aliases: v.split(/\s+/), opts: {} };
    } else if (k === "match") {
      flush();
      current = null;
    } else if (current && !(k in current.opts)) current.opts[k] = v; // first value wins, as in ssh
  }
  flush();
  return { entries, problems };
}
