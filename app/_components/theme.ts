// Theme choice shared by the root layout (server) and the toggle (browser).
export const THEME_COOKIE = "keel-theme";
export type Theme = "system" | "light" | "dark";

export function parseTheme(value: string | undefined): Theme {
  return value === "light" || value === "dark" ? value : "system";
}
