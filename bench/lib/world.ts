import {
  claudeTestEnv,
  realClaudeVersion,
  type StubReply,
  startMessagesStub,
  startNatsServer,
} from "@claude-gateway/testkit";
import { describeMachine } from "./machine.js";

/**
 * What a service benchmark runs on: a real nats-server, the Messages API stub answering `reply`
 * unless told otherwise, and the real CLI's environment pointed at the stub.
 */
export async function startBenchWorld(reply: StubReply) {
  const nats = await startNatsServer();
  const stub = await startMessagesStub();
  stub.setDefault(reply);
  const cli = await claudeTestEnv(stub.url);
  return {
    nats,
    stub,
    cli,
    /** The report's line naming the CLI and the machine it ran on. */
    describe: () => `claude ${realClaudeVersion(cli.bin)} · ${describeMachine()}`,
    async close() {
      await stub.close();
      await nats.stop();
      await cli.cleanup();
    },
  };
}
