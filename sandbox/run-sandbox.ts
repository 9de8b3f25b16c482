/** `npm start` with no LINE or kintone settings: start the sandbox, say where it is, stop on a signal. */
import type { LogLevel } from "../relay/src/logger.js";
import { startSandbox, type Sandbox } from "./start-sandbox.js";

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export async function runSandbox(env: NodeJS.ProcessEnv): Promise<void> {
  const rawPort = env.PORT?.trim() || "8787";
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT: must be a whole number from 0 to 65535, got "${rawPort}"`);
    process.exit(1);
  }
  const level = env.LOG_LEVEL?.trim() as LogLevel | undefined;

  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      port,
      logLevel: level && LEVELS.includes(level) ? level : "info",
      // The first line says what this is and where to go; everything else comes after it.
      onListening: (url) => console.log(`Sandbox mode (no LINE or kintone settings found): open ${url}/playground`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === "EADDRINUSE"
        ? `The sandbox cannot start: port ${port} is in use (set PORT to another port).`
        : `The sandbox cannot start: ${(error as Error).message}`,
    );
    process.exit(1);
  }
  console.log(
    `Sandbox ready: LINE and kintone are emulated in this process (demo app ${sandbox.appId}, ` +
      `LINE user ${sandbox.user.displayName}); nothing leaves this machine and all data is discarded on exit. ` +
      `To go live, set the LINE and kintone settings (README.md, "Relay settings").`,
  );

  const shutdown = () => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}
