// Sends a release body to /api/releases/upload with XMLHttpRequest, which reports upload progress
// (fetch does not); resolves with the console's `result`, rejects with its error message.
export type Progress = { sent: number; total: number } | null;

/** What the upload panel gives its forms: run a task (busy, result, errors), report a problem, progress. */
export type UploadFormProps = {
  busy: boolean;
  run: (task: () => Promise<string>) => void;
  setError: (message: string) => void;
  setProgress: (p: Progress) => void;
};

export function upload(
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
