// A folder chosen in the browser (<input webkitdirectory>) as one POSIX tar (ustar, with a pax
// header for long names), made of Blob parts so file contents are never copied into memory. The
// upload then takes the same path, with the same guards, as a .tar from the CLI. Browsers give
// neither modes, owners, symlinks nor empty folders: files are 0644, or 0755 when they start like
// a program ("#!" or an ELF header); folders 0755, owned by root.

export type FolderFile = { path: string; file: Blob };

const BLOCK = 512;
const MAX_FILE = 8 * 1024 ** 3 - 1; // ustar's size field (11 octal digits)
const enc = new TextEncoder();

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

function header(
  name: string,
  size: number,
  mode: number,
  type: "0" | "5" | "x",
  mtime: number,
): Uint8Array<ArrayBuffer> {
  const h = new Uint8Array(BLOCK);
  const put = (s: string | Uint8Array, at: number, max: number) =>
    h.set((typeof s === "string" ? enc.encode(s) : s).subarray(0, max), at);
  let prefix = "";
  let short = name;
  if (enc.encode(name).length > 100) {
    const cut = name.lastIndexOf("/", name.length - 1);
    if (
      cut > 0 &&
      enc.encode(name.slice(0, cut)).length <= 155 &&
      enc.encode(name.slice(cut + 1)).length <= 100
    ) {
      prefix = name.slice(0, cut);
      short = name.slice(cut + 1);
    } else short = name.slice(0, 99); // the pax header before it carries the full name
  }
  put(short, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put("        ", 148, 8);
  put(type, 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  put(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  put(octal(sum, 7) + " ", 148, 8);
  return h;
}

function pad(size: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array((BLOCK - (size % BLOCK)) % BLOCK);
}

function entry(
  parts: BlobPart[],
  name: string,
  size: number,
  mode: number,
  type: "0" | "5",
  mtime: number,
): void {
  if (enc.encode(name).length > 100 && !(name.includes("/") && fitsSplit(name))) {
    const record = (len: number) => `${len} path=${name}\n`;
    let len = enc.encode(record(0)).length;
    while (enc.encode(record(len)).length !== len) len = enc.encode(record(len)).length;
    const body = new Uint8Array(enc.encode(record(len)));
    parts.push(
      header(`PaxHeaders/${name.split("/").pop()!.slice(0, 80)}`, body.length, 0o644, "x", mtime),
      body,
      pad(body.length),
    );
  }
  parts.push(header(name, size, mode, type, mtime));
}

function fitsSplit(name: string): boolean {
  const cut = name.lastIndexOf("/");
  return (
    cut > 0 && enc.encode(name.slice(0, cut)).length <= 155 && enc.encode(name.slice(cut + 1)).length <= 100
  );
}

async function looksExecutable(file: Blob): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return (
    (head[0] === 0x23 && head[1] === 0x21) ||
    (head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46)
  );
}

/** Paths are relative to the chosen folder ("bin/app"); the folder itself becomes the tree's root. */
export async function folderTar(files: FolderFile[], now = Math.floor(Date.now() / 1000)): Promise<Blob> {
  const parts: BlobPart[] = [];
  const dirs = new Set<string>();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const f of sorted) {
    const segs = f.path.split("/");
    if (segs.some((s) => s === "" || s === "." || s === ".."))
      throw new Error(`${f.path}: not a plain relative path`);
    if (f.file.size > MAX_FILE)
      throw new Error(`${f.path} is larger than 8 GiB; build it with the CLI (keel release build DIR)`);
    for (let i = 1; i < segs.length; i++) {
      const d = segs.slice(0, i).join("/") + "/";
      if (!dirs.has(d)) {
        dirs.add(d);
        entry(parts, d, 0, 0o755, "5", now);
      }
    }
    entry(parts, f.path, f.file.size, (await looksExecutable(f.file)) ? 0o755 : 0o644, "0", now);
    parts.push(f.file, pad(f.file.size));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return new Blob(parts, { type: "application/x-tar" });
}

/** The files of a webkitdirectory input, relative to the chosen folder. */
export function filesOfFolderInput(list: FileList | File[]): FolderFile[] {
  return Array.from(list).map((f) => {
    const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
    const i = rel.indexOf("/");
    return { path: i >= 0 ? rel.slice(i + 1) : rel, file: f };
  });
}
