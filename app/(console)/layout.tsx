// Console shell: side navigation, who is signed in, sign-out and the theme toggle.
// Every page below requires a signed-in viewer; pages add their own role checks.
import { cookies } from "next/headers";
import Link from "next/link";
import type { ReactNode } from "react";
import { requireViewer } from "@/server/auth/viewer";
import { ThemeToggle } from "@/app/_components/theme-toggle";
import { THEME_COOKIE, parseTheme } from "@/app/_components/theme";
import { NavLinks } from "./_nav-links";
import { sortRoles } from "./_roles";
import { SignOutButton } from "./_sign-out-button";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const viewer = await requireViewer();
  const theme = parseTheme((await cookies()).get(THEME_COOKIE)?.value);
  return (
    <div className="flex min-h-screen">
      <aside className="sticky top-0 flex h-screen w-52 shrink-0 flex-col gap-4 border-r border-line bg-surface p-3">
        <Link href="/" className="px-2.5 text-lg font-semibold tracking-tight">
          Keel
        </Link>
        <NavLinks roles={viewer.roles} />
        <div className="mt-auto flex flex-col gap-2 border-t border-line pt-3 text-sm">
          <div className="px-1">
            <div className="truncate font-medium" data-testid="viewer-email" title={viewer.email}>
              {viewer.email}
            </div>
            <div className="text-xs text-muted" data-testid="viewer-roles">
              {viewer.roles.length > 0 ? sortRoles(viewer.roles).join(", ") : "no roles"}
            </div>
          </div>
          <SignOutButton />
          <ThemeToggle initial={theme} />
        </div>
      </aside>
      <main className="min-w-0 flex-1 p-6">{children}</main>
    </div>
  );
}
