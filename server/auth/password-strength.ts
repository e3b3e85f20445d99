// Password strength, estimated by zxcvbn-ts with its common and English dictionaries (common
// passwords, names, words, keyboard patterns, repeats, sequences, dates, l33t substitutions).
// A password must score at least 3 of 4 ("safely unguessable": about 10^10 guesses), at user
// creation and at every password change. The dictionaries take ~150 ms to load: once, lazily.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as en from "@zxcvbn-ts/language-en";
import { AppError } from "@/server/errors";

export const MIN_SCORE = 3;

let factory: ZxcvbnFactory | null = null;
function zxcvbn(): ZxcvbnFactory {
  return (factory ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  }));
}

/** Null when the password is strong enough, else a message that says why and what to do. */
export function passwordWeakness(password: string, userInputs: string[] = []): string | null {
  // Long inputs cost zxcvbn quadratic time; past 100 characters a password is judged on its first 100.
  const r = zxcvbn().check(password.slice(0, 100), userInputs.filter(Boolean));
  if (r.score >= MIN_SCORE) return null;
  const why = r.feedback.warning ?? "It would be guessed quickly.";
  const hint = r.feedback.suggestions.length
    ? ` ${r.feedback.suggestions.join(" ")}`
    : " Use a longer phrase of uncommon words.";
  return `This password is too weak (strength ${r.score} of 4, at least ${MIN_SCORE} needed): ${why}${hint}`;
}

export function assertStrongPassword(password: string, userInputs: string[] = []): void {
  const weak = passwordWeakness(password, userInputs);
  if (weak) throw new AppError("BAD_REQUEST", { message: weak });
}
