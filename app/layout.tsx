// Root layout: html shell, theme (from the `keel-theme` cookie; absent = follow the system)
// and the tRPC/React Query provider every page uses.
import type { Metadata } from "next";
import { cookies } from "next/headers";
import type { ReactNode } from "react";
import { TRPCReactProvider } from "@/app/_trpc/react";
import { THEME_COOKIE, parseTheme } from "@/app/_components/theme";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Keel", template: "%s · Keel" },
  description: "Roll software out to fleets of Linux machines, atomically and under policy.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const theme = parseTheme((await cookies()).get(THEME_COOKIE)?.value);
  return (
    <html lang="en" data-theme={theme === "system" ? undefined : theme} suppressHydrationWarning>
      <body className="min-h-screen antialiased">
        <TRPCReactProvider>{children}</TRPCReactProvider>
      </body>
    </html>
  );
}
