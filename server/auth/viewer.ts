// Server-side access for pages (server components, layouts, server actions):
//   const viewer = await requireViewer(["admin"]);   // → ViewerUser, or redirect / 403
// Not signed in → redirect to /sign-in?next=<path>; signed in without any of the roles →
// forbidden() (app/forbidden.tsx, HTTP 403). No roles given = any signed-in user.
import "server-only";
import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { db } from "@/server/db";
import type { Role, ViewerUser } from "./roles";
import { getAuth } from "./auth";
import { getViewer as getViewerWith, type Viewer } from "./get-viewer";

export type { Viewer };

/** The caller of the current request, or null. */
export async function getViewer(): Promise<Viewer | null> {
  return getViewerWith(await headers(), { db, auth: getAuth() });
}

export async function requireViewer(roles?: readonly Role[]): Promise<ViewerUser> {
  const h = await headers();
  const viewer = await getViewerWith(h, { db, auth: getAuth() });
  if (!viewer) {
    const path = h.get("x-keel-path") ?? "/";
    redirect(`/sign-in?next=${encodeURIComponent(path)}`);
  }
  if (roles && roles.length > 0 && !viewer.user.roles.some((r) => roles.includes(r))) forbidden();
  return viewer.user;
}
