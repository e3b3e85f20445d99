"use client";
// Side navigation. Sections the viewer's roles do not open are still listed (so people know
// they exist) but dimmed and marked with the role they need.
import Link from "next/link";
import { usePathname } from "next/navigation";
import { NAV, canUse } from "./_nav";

export function NavLinks({ roles }: { roles: readonly string[] }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main" className="flex flex-col gap-0.5">
      {NAV.map((item) => {
        const isActive = pathname === item.href || pathname.startsWith(`${item.href}/`);
        const isAllowed = canUse(item, roles);
        return (
          <Link
            key={item.href}
            href={item.href}
            aria-current={isActive ? "page" : undefined}
            title={isAllowed ? undefined : `Needs role: ${item.roles.join(" or ")}`}
            className={[
              "flex items-center justify-between rounded-md px-2.5 py-1.5 text-sm",
              isActive ? "bg-accent text-accent-fg" : "hover:bg-bg",
              isAllowed ? "" : "opacity-55",
            ].join(" ")}
          >
            <span>{item.label}</span>
            {!isAllowed && (
              <span className="text-[10px] uppercase tracking-wide">{item.roles.join("/")}</span>
            )}
          </Link>
        );
      })}
    </nav>
  );
}
