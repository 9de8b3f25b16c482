import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { AddressInfo } from "node:net";

export interface RunningServer {
  /** Base URL using `localhost` (rest-api-client accepts plain http only for localhost). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves a Hono app on 127.0.0.1 at the given port (0: any free port). */
export function listen(app: Hono, port = 0): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      resolve({
        url: `http://localhost:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
  });
}
