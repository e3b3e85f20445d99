"use client";
// Push a release built elsewhere: its manifest and stream, signed by a trusted key.
import type { FormEvent } from "react";
import { upload, type UploadFormProps } from "./upload-request";

export function PushForm({ busy, run, setError, setProgress }: UploadFormProps) {
  function onPush(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const manifest = form.get("manifest") as File | null;
    const stream = form.get("stream") as File | null;
    if (!manifest?.size || !stream?.size) return setError("Choose both the manifest and the stream file.");
    run(async () => {
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

  return (
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
  );
}
