// `facts`: the host's identity, hardware, store and every installed version, for inventory.
import { readFileSync, existsSync } from "node:fs";
import { arch, cpus, hostname, machine, release, totalmem, uptime } from "node:os";
import { PROTOCOL_VERSION, type AppFacts, type Facts, type StoreSection } from "../../protocol";
import type { AgentContext } from "../context";
import { fsInfo } from "../store/detect";
import { isReadOnlyTree, listApps, listVersions, readMeta, readPointer } from "../store/state";
import { AGENT_VERSION, agentSha256 } from "../version";
import { loadTrustedKeys } from "../trusted-keys";
import { listExports } from "../exports";

function readOsRelease(): Facts["host"]["os"] {
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    if (!existsSync(p)) continue;
    const kv: Record<string, string> = {};
    for (const line of readFileSync(p, "utf8").split("\n")) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m && m[1] && m[2] !== undefined)
        kv[m[1]] = m[2].replace(/^"(.*)"$/, "$1").replace(/^'(.*)'$/, "$1");
    }
    return { id: kv.ID ?? null, versionId: kv.VERSION_ID ?? null, prettyName: kv.PRETTY_NAME ?? null };
  }
  return { id: null, versionId: null, prettyName: null };
}

function readMachineId(): string | null {
  try {
    const id = readFileSync("/etc/machine-id", "utf8").trim();
    return id || null;
  } catch {
    return null;
  }
}

export function collectApps(ctx: AgentContext, section: StoreSection = "apps"): AppFacts[] {
  const layout = ctx.layout.inSection(section);
  return listApps(layout).map((app) => {
    const current = readPointer(layout.current(app));
    const previous = readPointer(layout.previous(app));
    const versions = listVersions(layout, app).flatMap((version) => {
      const meta = readMeta(layout, app, version);
      if (!meta) return [];
      const m = meta.manifest;
      return [
        {
          version,
          kind: m.kind,
          files: m.tree.files,
          bytes: m.tree.bytes,
          treeSha256: m.tree.sha256,
          receivedUuid: meta.receivedUuid,
          created: m.created,
          signer: m.signer,
          readOnly: isReadOnlyTree(layout.version(app, version)),
          isCurrent: version === current,
          isPrevious: version === previous,
          ...(m.requires ? { requires: m.requires } : {}),
        },
      ];
    });
    const exports = current ? listExports(ctx, app, readMeta(layout, app, current)?.manifest) : [];
    return { app, current, previous, versions, ...(exports.length ? { exports } : {}) };
  });
}

export function facts(ctx: AgentContext): Facts {
  const cpuList = cpus();
  const fs = fsInfo(ctx.layout.root);
  return {
    agent: { version: AGENT_VERSION, protocolVersion: PROTOCOL_VERSION, sha256: agentSha256() },
    host: {
      hostname: hostname(),
      machineId: readMachineId(),
      os: readOsRelease(),
      kernel: release(),
      arch: typeof machine === "function" ? machine() : arch(),
      cpu: { model: cpuList[0]?.model.trim() ?? "unknown", cores: cpuList.length },
      memoryBytes: totalmem(),
      uptimeSeconds: Math.round(uptime()),
    },
    store: {
      path: ctx.layout.root,
      backend: fs.isBtrfs ? "btrfs" : "plain",
      fsType: fs.fsType,
      sizeBytes: fs.sizeBytes,
      freeBytes: fs.freeBytes,
    },
    apps: collectApps(ctx),
    runtimes: collectApps(ctx, "runtimes"),
    trustedKeys: trustedKeyIds(ctx.trustedDir),
  };
}

/** A malformed key file is left out here; `receive` names it when it matters. */
function trustedKeyIds(dir: string): string[] {
  try {
    return loadTrustedKeys(dir, "facts").map((k) => k.keyId);
  } catch {
    return [];
  }
}
