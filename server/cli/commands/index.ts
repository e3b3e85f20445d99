// Every `keel` command, in the order `keel help` lists them. Add yours here.
import type { Command } from "@/server/cli/command";
import { auditCommand } from "./audit";
import { loginCommand } from "./login";
import { usersCommand } from "./users";
import { whoamiCommand } from "./whoami";
import { releaseCommand } from "./release";
import { keysCommand } from "./keys";
import { rolloutCommand } from "./rollout";
import { policyCommand } from "./policy";
import { hostsCommand } from "./hosts";
import { sshKeyCommand } from "./ssh-key";
import { notificationsCommand } from "./notifications";

export const commands: Command[] = [
  loginCommand,
  whoamiCommand,
  usersCommand,
  auditCommand,
  releaseCommand,
  keysCommand,
  rolloutCommand,
  policyCommand,
  hostsCommand,
  sshKeyCommand,
  notificationsCommand,
];
