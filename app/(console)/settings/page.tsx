import type { Metadata } from "next";
import { requireViewer } from "@/server/auth/viewer";
import { PageHeader } from "@/app/_components/ui";
import { sortRoles } from "@/app/(console)/_roles";
import { ApiTokens } from "./api-tokens";
import { SigningKeys } from "./signing-keys/signing-keys";
import { IdentityProvider } from "./identity-provider/identity-provider";
import { ConsoleKeyCard } from "@/app/(console)/_console-key";
import { Notifications } from "./notifications/notifications";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const viewer = await requireViewer();
  return (
    <div className="flex max-w-4xl flex-col gap-6">
      <PageHeader title="Settings" />
      <section className="card text-sm">
        <h2 className="mb-2 font-medium">Your account</h2>
        <dl className="grid grid-cols-[8rem_1fr] gap-y-1">
          <dt className="text-muted">Email</dt>
          <dd>{viewer.email}</dd>
          <dt className="text-muted">Name</dt>
          <dd>{viewer.name}</dd>
          <dt className="text-muted">Roles</dt>
          <dd>{viewer.roles.length > 0 ? sortRoles(viewer.roles).join(", ") : "none — ask an admin"}</dd>
        </dl>
      </section>
      <ConsoleKeyCard />
      <ApiTokens />
      {viewer.roles.length > 0 && <SigningKeys isAdmin={viewer.roles.includes("admin")} />}
      {(viewer.roles.includes("admin") || viewer.roles.includes("auditor")) && (
        <Notifications isAdmin={viewer.roles.includes("admin")} />
      )}
      {(viewer.roles.includes("admin") || viewer.roles.includes("auditor")) && (
        <IdentityProvider isAdmin={viewer.roles.includes("admin")} />
      )}
    </div>
  );
}
