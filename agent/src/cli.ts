// Bundle entry: run main() and exit with its code once stdout is flushed.
import { main } from "./main";
import { applyAgentV8Flags } from "./v8-flags";

applyAgentV8Flags();

function exit(code: number): void {
  process.stdout.write("", () => process.exit(code));
}

main(process.argv.slice(2)).then(exit, (e: unknown) => {
  process.stderr.write(`keel-agent: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  exit(1);
});
