"use client";
// Cycles system → light → dark. The choice is kept in a cookie so the server renders the
// right theme on the next load (no flash), and applied to <html data-theme> right away.
import { useState } from "react";
import { THEME_COOKIE, type Theme } from "./theme";

const NEXT: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };
const LABEL: Record<Theme, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

export function ThemeToggle({ initial }: { initial: Theme }) {
  const [theme, setTheme] = useState<Theme>(initial);
  function cycle() {
    const next = NEXT[theme];
    if (next === "system") {
      delete document.documentElement.dataset.theme;
      document.cookie = `${THEME_COOKIE}=; path=/; max-age=0; samesite=lax`;
    } else {
      document.documentElement.dataset.theme = next;
      document.cookie = `${THEME_COOKIE}=${next}; path=/; max-age=31536000; samesite=lax`;
    }
    setTheme(next);
  }
  return (
    <button type="button" className="btn w-full justify-center text-xs" onClick={cycle}>
      {LABEL[theme]}
    </button>
  );
}
