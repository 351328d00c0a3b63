import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

export interface Listening {
  url: string;
  close(): Promise<void>;
}

/** Serves a hono app on 127.0.0.1 on a free port. */
export function listen(app: Hono): Promise<Listening> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            const http = server as Server;
            http.close(() => done());
            // fetch keeps connections alive: without this, close waits for them to time out.
            http.closeAllConnections();
          }),
      });
    });
  });
}

/** One request as a fake saw it (for asserting what was, or was not, called). */
export interface SeenRequest {
  method: string;
  path: string;
}
