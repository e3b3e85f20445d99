// `verify APP [VERSION]`: re-check installed trees against their recorded, signed manifests:
// entry count, bytes and tree digest (every file's contents, and with manifestVersion 2 the extended
// attributes the kernel reports), and on btrfs that the subvolume is still read-only with its
// Received UUID.
import type { VerifyArgs, VerifyResult } from "../../protocol";
import type { AgentContext } from "../context";
import { AgentError } from "../errors";
import { subvolumeInfo } from "../store/btrfs";
import { fsInfo } from "../store/detect";
import { listVersions, readMeta } from "../store/state";
import { readSubvolume } from "../store/subvolume-read";
import { isHostLabel } from "../store/xattr-names";
import { walkTree, type XattrMap } from "../tree-digest";

export async function verify(ctx: AgentContext, args: VerifyArgs): Promise<VerifyResult> {
  const { layout } = ctx;
  const versions = args.version ? [args.version] : listVersions(layout, args.app);
  if (versions.length === 0)
    throw new AgentError("NOT_FOUND", "verify", `${args.app} has no installed versions`);
  const isBtrfs = fsInfo(layout.root).isBtrfs;
  const ok: VerifyResult["versions"] = [];
  const problems: { version: string; problem: string }[] = [];
  for (const version of versions) {
    const meta = readMeta(layout, args.app, version);
    if (!meta || !listVersions(layout, args.app).includes(version)) {
      if (args.version)
        throw new AgentError("NOT_FOUND", "verify", `${args.app} ${version} is not installed`);
      continue;
    }
    const path = layout.version(args.app, version);
    const t = meta.manifest.tree;
    const v = meta.manifest.manifestVersion;
    const found: string[] = [];
    // Extended attributes as the kernel holds them (btrfs); a plain tree's are not read (it has none).
    let xattrs: XattrMap | undefined;
    if (isBtrfs) {
      try {
        xattrs = (await readSubvolume(path, "verify")).allXattrs ?? undefined;
      } catch (e) {
        found.push(e instanceof Error ? e.message : String(e));
      }
      if (v === 1 && xattrs && [...xattrs.values()].some((xs) => xs.some(([n]) => !isHostLabel(n))))
        found.push("it holds extended attributes its version 1 digest cannot cover");
    }
    const walk = walkTree(path, { withDigest: true, meta: v === 2, manifestVersion: v, xattrs });
    if (walk.files !== t.files) found.push(`${walk.files} entries instead of ${t.files}`);
    if (walk.bytes !== t.bytes) found.push(`${walk.bytes} bytes instead of ${t.bytes}`);
    if (walk.sha256 !== t.sha256) found.push("contents differ from the signed tree digest");
    if (v === 2 && walk.metaSha256 !== t.metaSha256)
      found.push("paths, modes, owners or extended attributes differ from the signed tree digest");
    if (isBtrfs) {
      const info = await subvolumeInfo(path);
      if (!info.readOnly) found.push("the subvolume is no longer read-only");
      if (meta.receivedUuid && info.receivedUuid !== meta.receivedUuid && info.uuid !== meta.receivedUuid)
        found.push("its Received UUID changed");
    }
    if (found.length) problems.push({ version, problem: found.join("; ") });
    else ok.push({ version, files: t.files, bytes: t.bytes, treeSha256: t.sha256 });
  }
  if (problems.length) {
    throw new AgentError(
      "VERIFY_FAILED",
      "verify",
      problems.map((p) => `${args.app} ${p.version}: ${p.problem}`).join("; "),
      { failed: problems, passed: ok.map((v) => v.version) },
    );
  }
  return { app: args.app, versions: ok };
}
