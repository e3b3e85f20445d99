"use client";
// Upload a release: push one built elsewhere (manifest + stream, signed by a trusted key), or
// build one on the console from a folder (sent as a tar made in the browser, folder-tar.ts) or a
// .tar / .tar.zst of the tree (needs the console's btrfs build store).
// Uploads stream to /api/releases/upload with a progress bar (XMLHttpRequest reports upload
// progress; fetch does not).
import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/react";
import { ErrorNote, OkNote } from "@/app/_components/ui";
import { formatBytes } from "@/app/_components/format-bytes";
import { healthCheckFromForm, type HealthKind } from "./health-check-form";
import { activationFromForm } from "./activation-form";
import { ActivationFields } from "./activation-fields";
import { filesOfFolderInput, folderTar } from "./folder-tar";

type Progress = { sent: number; total: number } | null;

function upload(
  url: string,
  body: Blob,
  headers: Record<string, string>,
  onProgress: (p: Progress) => void,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) =>
      onProgress({ sent: e.loaded, total: e.lengthComputable ? e.total : body.size });
    xhr.onerror = () => reject(new Error("The upload was interrupted (network error)."));
    xhr.onload = () => {
      let answer: { result?: unknown; error?: { message: string } } = {};
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        return reject(new Error(`The console answered ${xhr.status} without details.`));
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(answer.result);
      else reject(new Error(answer.error?.message ?? `The console answered ${xhr.status}.`));
    };
    xhr.send(body);
  });
}

function ProgressBar({ progress, label }: { progress: Progress; label: string }) {
  if (!progress) return null;
  const pct = progress.total > 0 ? Math.round((progress.sent / progress.total) * 100) : 0;
  return (
    <div className="flex flex-col gap-1 text-xs" aria-label={label}>
      <progress max={100} value={pct} className="w-full" />
      <span>
        {pct}% — {formatBytes(progress.sent)} of {formatBytes(progress.total)}
        {pct === 100 && " sent; the console is checking it…"}
      </span>
    </div>
  );
}

export function UploadPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const support = useQuery(trpc.releases.buildSupport.queryOptions());
  const [mode, setMode] = useState<"push" | "build">("push");
  const [health, setHealth] = useState<HealthKind>("none");
  const [progress, setProgress] = useState<Progress>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function run(task: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setDone(null);
    setProgress(null);
    try {
      setDone(await task());
      await queryClient.invalidateQueries({ queryKey: trpc.releases.list.queryKey() });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  function onPush(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const manifest = form.get("manifest") as File | null;
    const stream = form.get("stream") as File | null;
    if (!manifest?.size || !stream?.size) return setError("Choose both the manifest and the stream file.");
    void run(async () => {
      const r = (await upload(
        "/api/releases/upload?mode=push",
        new Blob([manifest, stream]),
        { "x-keel-manifest-bytes": String(manifest.size) },
        setProgress,
      )) as {
        status: string;
        app: string;
        version: string;
      };
      return r.status === "unchanged"
        ? `${r.app} ${r.version} was already here with exactly these bytes; nothing changed.`
        : `Pushed ${r.app} ${r.version}.`;
    });
  }

  function onBuild(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const archive = form.get("tree") as File | null;
    const folder = filesOfFolderInput(form.getAll("tree-folder") as File[]).filter(
      (f) => f.file.size > 0 || f.path,
    );
    if (!folder.length && !archive?.size)
      return setError("Choose the tree's folder, or a .tar or .tar.zst of it.");
    if (folder.length && archive?.size) return setError("Choose either a folder or an archive, not both.");
    const format = folder.length
      ? "tar"
      : /\.tar\.zst$|\.tzst$/i.test(archive!.name)
        ? "tar.zst"
        : /\.tar$/i.test(archive!.name)
          ? "tar"
          : null;
    if (!format) return setError("The tree must be a folder, a .tar or a .tar.zst file.");
    const check = healthCheckFromForm(form, health);
    if (typeof check === "string") return setError(check);
    const q = new URLSearchParams({
      mode: "build",
      app: String(form.get("app")),
      version: String(form.get("version")),
      kind: String(form.get("kind")),
      format,
    });
    if (check) q.set("healthCheck", JSON.stringify(check));
    const activation = activationFromForm(form);
    if (typeof activation === "string") return setError(activation);
    if (activation) q.set("activation", JSON.stringify(activation));
    const requires = String(form.get("requires") ?? "").trim();
    if (requires) q.set("requires", requires);
    void run(async () => {
      const tree = folder.length ? await folderTar(folder) : archive!;
      const r = (await upload(`/api/releases/upload?${q}`, tree, {}, setProgress)) as {
        app: string;
        version: string;
        parent: string | null;
        fullBytes: number;
        incrementalBytes: number | null;
        healthCheck: { type: string; runAs?: string } | null;
      };
      return `Built ${r.app} ${r.version}: full stream ${formatBytes(r.fullBytes)}${r.parent ? `, incremental from ${r.parent} ${formatBytes(r.incrementalBytes)}` : ""}${r.healthCheck ? `; health check (${r.healthCheck.type}${r.healthCheck.runAs === "root" ? ", runs as root" : ""}) recorded in the manifest` : ""}.`;
    });
  }

  return (
    <section className="card flex flex-col gap-3" aria-label="Add a release">
      <div className="flex items-center gap-2">
        <h2 className="mr-4 font-medium">Add a release</h2>
        <button
          type="button"
          className={`btn ${mode === "push" ? "btn-primary" : ""}`}
          onClick={() => setMode("push")}
          aria-pressed={mode === "push"}
        >
          Push signed release
        </button>
        <button
          type="button"
          className={`btn ${mode === "build" ? "btn-primary" : ""}`}
          onClick={() => setMode("build")}
          aria-pressed={mode === "build"}
        >
          Build from tree
        </button>
      </div>
      {mode === "push" ? (
        <form onSubmit={onPush} className="flex flex-wrap items-end gap-3" aria-label="Push release">
          <div>
            <label htmlFor="push-manifest" className="label">
              Manifest (manifest.json)
            </label>
            <input
              id="push-manifest"
              name="manifest"
              type="file"
              accept=".json,application/json"
              className="input"
              required
            />
          </div>
          <div>
            <label htmlFor="push-stream" className="label">
              Stream
            </label>
            <input id="push-stream" name="stream" type="file" className="input" required />
          </div>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Uploading…" : "Push"}
          </button>
        </form>
      ) : support.data && !support.data.canBuild ? (
        <ErrorNote>Building is not available: {support.data.reason}.</ErrorNote>
      ) : (
        <form onSubmit={onBuild} className="flex flex-wrap items-end gap-3" aria-label="Build release">
          <div>
            <label htmlFor="build-app" className="label">
              App
            </label>
            <input
              id="build-app"
              name="app"
              required
              pattern="[a-z0-9][a-z0-9._\-]{0,63}"
              className="input"
              placeholder="e.g. web"
            />
          </div>
          <div>
            <label htmlFor="build-version" className="label">
              Version
            </label>
            <input
              id="build-version"
              name="version"
              required
              pattern="[0-9A-Za-z][0-9A-Za-z._+~\-]{0,63}"
              className="input"
              placeholder="e.g. 1.4.2"
            />
          </div>
          <div>
            <label htmlFor="build-kind" className="label">
              Kind
            </label>
            <select id="build-kind" name="kind" className="input" defaultValue="app">
              <option value="app">app</option>
              <option value="runtime">runtime</option>
              <option value="rootfs">rootfs</option>
            </select>
          </div>
          <div>
            <label htmlFor="build-requires" className="label">
              Requires runtimes (apps only)
            </label>
            <input
              id="build-requires"
              name="requires"
              className="input"
              placeholder="node@^20, python@>=3.11 <3.13"
            />
          </div>
          <div>
            <label htmlFor="build-tree-folder" className="label">
              Tree folder
            </label>
            {/* webkitdirectory: every browser's folder picker; not in React's types. */}
            <input
              id="build-tree-folder"
              name="tree-folder"
              type="file"
              multiple
              className="input"
              {...{ webkitdirectory: "" }}
            />
          </div>
          <div>
            <label htmlFor="build-tree" className="label">
              or Tree (.tar or .tar.zst)
            </label>
            <input id="build-tree" name="tree" type="file" accept=".tar,.zst,.tzst" className="input" />
          </div>
          <fieldset className="flex w-full flex-wrap items-end gap-3" aria-label="Health check">
            <div>
              <label htmlFor="build-health" className="label">
                Health check (run on each host after activation; failing it reverts the host)
              </label>
              <select
                id="build-health"
                className="input"
                value={health}
                onChange={(e) => setHealth(e.target.value as HealthKind)}
              >
                <option value="none">none</option>
                <option value="exec">command</option>
                <option value="http">HTTP</option>
              </select>
            </div>
            {health === "exec" && (
              <div>
                <label htmlFor="build-health-argv" className="label">
                  Command: the program, then one argument per line (no shell)
                </label>
                <textarea
                  id="build-health-argv"
                  name="health-argv"
                  rows={3}
                  className="input font-mono"
                  placeholder={"/usr/bin/curl\n-fsS\nhttp://127.0.0.1:8080/health"}
                  required
                />
                <label className="mt-1 flex items-center gap-1 text-xs">
                  <input type="checkbox" name="health-as-root" />
                  Run as root on the hosts (otherwise as the unprivileged user keel-check; rollouts and
                  approvals will show it)
                </label>
              </div>
            )}
            {health === "http" && (
              <>
                <div>
                  <label htmlFor="build-health-url" className="label">
                    URL (fetched on the host)
                  </label>
                  <input
                    id="build-health-url"
                    name="health-url"
                    type="url"
                    className="input"
                    placeholder="http://127.0.0.1:8080/health"
                    required
                  />
                </div>
                <div>
                  <label htmlFor="build-health-status" className="label">
                    Expected status
                  </label>
                  <input
                    id="build-health-status"
                    name="health-status"
                    type="number"
                    min={100}
                    max={599}
                    defaultValue={200}
                    className="input w-24"
                  />
                </div>
              </>
            )}
            {health !== "none" && (
              <div>
                <label htmlFor="build-health-timeout" className="label">
                  Timeout (seconds)
                </label>
                <input
                  id="build-health-timeout"
                  name="health-timeout"
                  type="number"
                  min={0.001}
                  max={3600}
                  step="any"
                  defaultValue={30}
                  className="input w-24"
                />
              </div>
            )}
          </fieldset>
          <ActivationFields />
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Building…" : "Build"}
          </button>
        </form>
      )}
      <ProgressBar progress={progress} label="Upload progress" />
      {error && <ErrorNote>{error}</ErrorNote>}
      {done && <OkNote>{done}</OkNote>}
    </section>
  );
}
