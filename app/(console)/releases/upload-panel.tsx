"use client";
// Upload a release: push one built elsewhere (manifest + stream, signed by a trusted key), or
// build one on the console from a tree (needs the console's btrfs build store): push-form.tsx,
// build-form.tsx. Uploads stream to /api/releases/upload with a progress bar (upload-request.ts).
import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/react";
import { ErrorNote, OkNote } from "@/app/_components/ui";
import { BuildForm } from "./build-form";
import type { HealthKind } from "./health-check-form";
import { ProgressBar } from "./progress-bar";
import { PushForm } from "./push-form";
import type { Progress } from "./upload-request";

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
        <PushForm busy={busy} run={(t) => void run(t)} setError={setError} setProgress={setProgress} />
      ) : support.data && !support.data.canBuild ? (
        <ErrorNote>Building is not available: {support.data.reason}.</ErrorNote>
      ) : (
        <BuildForm
          busy={busy}
          run={(t) => void run(t)}
          setError={setError}
          setProgress={setProgress}
          health={health}
          setHealth={setHealth}
        />
      )}
      <ProgressBar progress={progress} label="Upload progress" />
      {error && <ErrorNote>{error}</ErrorNote>}
      {done && <OkNote>{done}</OkNote>}
    </section>
  );
}
