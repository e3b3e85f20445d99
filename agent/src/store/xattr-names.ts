// What an extended attribute of a release may be called, and what it means (RELIABILITY case 27).
// The name is checked byte by byte as the kernel will see it: a name that merely *looks* like
// another (`security.capability` followed by a NUL byte, which btrfs receive passes to
// lsetxattr as a C string, i.e. as `security.capability`) is refused, never compared as text.
// Allowed: `user.*` always; `security.capability` when the manifest declares capabilities;
// other `security.*`, `trusted.*` and `system.posix_acl_*` when the manifest lists the name in
// `special.xattrs`; anything else (other namespaces, `system.*` beyond ACLs, `btrfs.*`) never.

/** XATTR_NAME_MAX of Linux. */
const NAME_MAX = 255;

export type XattrKind = "user" | "capability" | "privileged";

/** Why a raw xattr name can never be set by a release, or null when its charset is sound. */
function nameProblem(raw: Buffer): string | null {
  if (raw.length === 0) return "an empty extended attribute name";
  if (raw.length > NAME_MAX) return `an extended attribute name of ${raw.length} bytes (limit ${NAME_MAX})`;
  for (const b of raw) {
    if (b < 0x20 || b === 0x7f)
      return `an extended attribute name with the control byte 0x${b.toString(16).padStart(2, "0")} (${printable(raw)})`;
  }
  if (!Buffer.from(raw.toString("utf8"), "utf8").equals(raw))
    return `an extended attribute name that is not valid UTF-8 (${printable(raw)})`;
  return null;
}

/** A name for messages: printable ASCII as is, every other byte as \xNN. */
export function printable(raw: Buffer): string {
  let s = "";
  for (const b of raw.subarray(0, 120))
    s +=
      b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  return raw.length > 120 ? `${s}…` : s;
}

export class XattrRefused extends Error {}

/**
 * Labels a host's own security module puts on every new file (SELinux, Smack, AppArmor, IMA/EVM):
 * on such a host they appear on a received tree without the stream setting them, and differ from
 * the builder's. The tree digest leaves them out; a stream that sets one still needs it declared.
 */
export function isHostLabel(name: string): boolean {
  return /^security\.(selinux|SMACK64[A-Z]*|apparmor|ima|evm)$/.test(name);
}

/** Classifies a raw xattr name; throws XattrRefused for one no manifest can declare. */
export function classifyXattr(raw: Buffer): { name: string; kind: XattrKind } {
  const problem = nameProblem(raw);
  if (problem) throw new XattrRefused(`the stream sets ${problem}`);
  const name = raw.toString("utf8");
  if (name.startsWith("user.") && name.length > 5) return { name, kind: "user" };
  if (name === "security.capability") return { name, kind: "capability" };
  if (
    /^(security|trusted)\.[A-Za-z0-9._-]+$/.test(name) ||
    /^system\.posix_acl_(access|default)$/.test(name)
  ) {
    return { name, kind: "privileged" };
  }
  throw new XattrRefused(
    `the stream sets the extended attribute ${JSON.stringify(name)}, outside the namespaces a release may use (user.*, and security.*, trusted.*, system.posix_acl_* when declared)`,
  );
}

const CAP_NAMES = [
  "cap_chown",
  "cap_dac_override",
  "cap_dac_read_search",
  "cap_fowner",
  "cap_fsetid",
  "cap_kill",
  "cap_setgid",
  "cap_setuid",
  "cap_setpcap",
  "cap_linux_immutable",
  "cap_net_bind_service",
  "cap_net_broadcast",
  "cap_net_admin",
  "cap_net_raw",
  "cap_ipc_lock",
  "cap_ipc_owner",
  "cap_sys_module",
  "cap_sys_rawio",
  "cap_sys_chroot",
  "cap_sys_ptrace",
  "cap_sys_pacct",
  "cap_sys_admin",
  "cap_sys_boot",
  "cap_sys_nice",
  "cap_sys_resource",
  "cap_sys_time",
  "cap_sys_tty_config",
  "cap_mknod",
  "cap_lease",
  "cap_audit_write",
  "cap_audit_control",
  "cap_setfcap",
  "cap_mac_override",
  "cap_mac_admin",
  "cap_syslog",
  "cap_wake_alarm",
  "cap_block_suspend",
  "cap_audit_read",
  "cap_perfmon",
  "cap_bpf",
  "cap_checkpoint_restore",
];

/** The capabilities a `security.capability` value grants (vfs_cap_data), e.g. "cap_setuid+ep". */
export function describeCapability(value: Buffer): string {
  if (value.length < 12) return "(malformed value)";
  const magic = value.readUInt32LE(0);
  let permitted = BigInt(value.readUInt32LE(4));
  let inheritable = BigInt(value.readUInt32LE(8));
  if (value.length >= 20) {
    permitted |= BigInt(value.readUInt32LE(12)) << 32n;
    inheritable |= BigInt(value.readUInt32LE(16)) << 32n;
  }
  const names: string[] = [];
  const all = permitted | inheritable;
  for (let i = 0; i < 64; i++) if ((all >> BigInt(i)) & 1n) names.push(CAP_NAMES[i] ?? `cap_${i}`);
  const flags = (permitted ? "p" : "") + (inheritable ? "i" : "") + (magic & 1 ? "e" : "");
  return names.length ? `${names.join(",")}${flags ? `+${flags}` : ""}` : "(no capabilities)";
}
