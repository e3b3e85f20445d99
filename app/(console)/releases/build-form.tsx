"use client";
// Build a release on the console from a tree: a folder (sent as a tar made in the browser,
// folder-tar.ts) or a .tar / .tar.zst of it, with an optional health check and activation.
import type { FormEvent } from "react";
import { formatBytes } from "@/app/_components/format-bytes";
import { InputField, SelectField } from "@/app/_components/field";
import { healthCheckFromForm, type HealthKind } from "./health-check-form";
import { activationFromForm } from "./activation-form";
import { ActivationFields } from "./activation-fields";
import { filesOfFolderInput, folderTar } from "./folder-tar";
import { HealthCheckFields } from "./health-check-fields";
import { upload, type UploadFormProps } from "./upload-request";

export function BuildForm({
  busy,
  run,
  setError,
  setProgress,
  health,
  setHealth,
}: UploadFormProps & { health: HealthKind; setHealth: (kind: HealthKind) => void }) {
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
    run(async () => {
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
    <form onSubmit={onBuild} className="flex flex-wrap items-end gap-3" aria-label="Build release">
      <InputField
        id="build-app"
        label="App"
        name="app"
        required
        pattern="[a-z0-9][a-z0-9._\-]{0,63}"
        placeholder="e.g. web"
      />
      <InputField
        id="build-version"
        label="Version"
        name="version"
        required
        pattern="[0-9A-Za-z][0-9A-Za-z._+~\-]{0,63}"
        placeholder="e.g. 1.4.2"
      />
      <SelectField id="build-kind" label="Kind" name="kind" defaultValue="app">
        <option value="app">app</option>
        <option value="runtime">runtime</option>
        <option value="rootfs">rootfs</option>
      </SelectField>
      <InputField
        id="build-requires"
        label="Requires runtimes (apps only)"
        name="requires"
        placeholder="node@^20, python@>=3.11 <3.13"
      />
      {/* webkitdirectory: every browser's folder picker; not in React's types. */}
      <InputField
        id="build-tree-folder"
        label="Tree folder"
        name="tree-folder"
        type="file"
        multiple
        {...{ webkitdirectory: "" }}
      />
      <InputField
        id="build-tree"
        label="or Tree (.tar or .tar.zst)"
        name="tree"
        type="file"
        accept=".tar,.zst,.tzst"
      />
      <HealthCheckFields health={health} setHealth={setHealth} />
      <ActivationFields />
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? "Building…" : "Build"}
      </button>
    </form>
  );
}
