import type { RelayProcess } from "../../test/helpers/relay-process.js";
import { sleep } from "./random.js";

/**
 * Keeps one relay process running on the same data dir: `kill()` sends SIGKILL at once (also from
 * inside an emulator's callback, at the worst moment) and a new process is started right after.
 * While none listens, `url` is null and the drivers treat the relay as unreachable.
 */
export class RelaySupervisor {
  #current: RelayProcess | null = null;
  #restarting: Promise<void> | null = null;
  readonly #all: RelayProcess[] = [];
  kills = 0;

  constructor(
    private readonly startProcess: () => Promise<RelayProcess>,
    private readonly log: (line: string) => void = () => {},
  ) {}

  get url(): string | null {
    return this.#current?.url ?? null;
  }

  get running(): boolean {
    return this.#current !== null;
  }

  /** Everything every relay process printed, in order. */
  output(): string {
    return this.#all.map((relay, i) => `--- relay process ${i + 1} ---\n${relay.output()}`).join("\n");
  }

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const began = Date.now();
        const relay = await this.startProcess();
        this.log(`relay process ${this.#all.length + 1} listening after ${((Date.now() - began) / 1000).toFixed(1)} s`);
        this.#all.push(relay);
        this.#current = relay;
        return;
      } catch (error) {
        // A loaded machine can miss the start-up bound: try again rather than end the run.
        if (attempt >= 3) throw error;
        await sleep(500);
      }
    }
  }

  /** SIGKILL now (synchronously), then start a new process on the same data dir. No-op while one is starting. */
  kill(): boolean {
    const relay = this.#current;
    if (!relay || this.#restarting) return false;
    this.#current = null;
    relay.child.kill("SIGKILL");
    this.kills += 1;
    this.#restarting = relay.exited.then(() => this.start()).finally(() => {
      this.#restarting = null;
    });
    return true;
  }

  /** Resolves once a relay listens (after a kill, the new one). */
  async ready(): Promise<void> {
    while (this.#restarting) await this.#restarting;
  }
}
