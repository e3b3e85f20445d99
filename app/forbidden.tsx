// Rendered with HTTP 403 when a signed-in user opens a page their roles do not allow.
import { StatusPage } from "./_components/status-page";

export default function Forbidden() {
  return (
    <StatusPage status={403} title="You do not have access to this page">
      Your account&apos;s roles do not allow it. Ask an admin to give you the role you need.
    </StatusPage>
  );
}
