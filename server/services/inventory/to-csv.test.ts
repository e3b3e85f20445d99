import { describe, expect, it } from "vitest";
import { toCsv } from "./to-csv";

describe("toCsv", () => {
  it("quotes commas, quotes and newlines and leaves plain cells alone", () => {
    expect(
      toCsv(
        ["a", "b"],
        [
          ["x,y", 'say "hi"'],
          ["line\nbreak", 3],
        ],
      ),
    ).toBe('a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",3\r\n');
  });
  it("defuses spreadsheet formulas and writes dates as ISO", () => {
    expect(toCsv(["a"], [["=cmd|' /C calc'!A0"], [new Date("2026-11-26T10:00:00Z")], [null]])).toBe(
      "a\r\n'=cmd|' /C calc'!A0\r\n2026-11-26T10:00:00.000Z\r\n\r\n",
    );
  });
});
