import type { Command } from "@/server/cli/command";

export const sshKeyCommand: Command = {
  name: "ssh-key",
  summary: "print the console's SSH public key (authorize it for root on a host before enrolling it)",
  usage: ["keel ssh-key"],
  async run(_args, io) {
    const k = await io.client().settings.sshKey.query();
    io.out(k.publicKey);
    console.error(
      `# fingerprint ${k.fingerprint}; append the line above to /root/.ssh/authorized_keys on each host`,
    );
  },
};
