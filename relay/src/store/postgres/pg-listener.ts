import pg from "pg";
import { JOBS_CHANNEL, connectionConfig, type StoreLogger } from "./pg-connection.js";

/**
 * "Jobs are due now" from any instance on the database: LISTEN on one dedicated connection (a
 * pooled one would be handed to queries, and LISTEN belongs to its session). Every transaction
 * that makes a job due now sends NOTIFY with its commit (inTransaction).
 *
 * When the connection drops, it is opened again (1 s, doubling up to 30 s) and the listeners are
 * called once: what was enqueued meanwhile sent its NOTIFY to nobody.
 */
export class JobsListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private retryMs = 1_000;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly logger?: StoreLogger,
  ) {}

  /** Connects and LISTENs; rejects when the first connection fails (the store does not open). */
  async start(): Promise<void> {
    this.client = await this.connect();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(connectionConfig(this.url));
    client.on("notification", (message) => {
      if (message.channel === JOBS_CHANNEL) this.emit();
    });
    client.on("error", (error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("connection ended")));
    try {
      await client.connect();
      await client.query(`LISTEN ${JOBS_CHANNEL}`);
    } catch (error) {
      client.removeAllListeners();
      client.on("error", () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  private emit(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        this.logger?.warn("a jobs-available listener threw", { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners();
    client.on("error", () => undefined);
    client.end().catch(() => undefined);
    this.logger?.warn("PostgreSQL LISTEN connection lost; other instances' wake-ups wait until it is back", { error: error.message });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => void this.reconnect(), this.retryMs);
    this.reconnectTimer.unref();
  }

  private async reconnect(): Promise<void> {
    try {
      const client = await this.connect();
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.retryMs = 1_000;
      this.emit();
    } catch (error) {
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
      this.logger?.warn("PostgreSQL LISTEN connection cannot be opened again yet", {
        error: error instanceof Error ? error.message : String(error),
        retryInMs: this.retryMs,
      });
      this.scheduleReconnect();
    }
  }
}
