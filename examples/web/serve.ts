/**
 * A static file server on 127.0.0.1 for the browser example (and for the
 * tests that load the engine the way users do: a URL import, this page).
 * Serves a directory: GET only, `..` refused, `/` is index.html.
 *
 *     deno run --allow-net=127.0.0.1 --allow-read=examples/web examples/web/serve.ts [DIR] [PORT]
 *
 * (std's file_server is not used: the deno-std npm build misses a module it imports.)
 */

const TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** A running server: its base URL (`http://127.0.0.1:<port>`) and how to stop it. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** The port it listens on. */
  port: number;
  /** Stops listening and waits for open requests to finish. */
  close(): Promise<void>;
}

/** Reads `path` under `root` into a response, 404 if it is not a file there. */
export async function fileResponse(root: string, path: string): Promise<Response> {
  if (path.split("/").includes("..")) return new Response("not allowed", { status: 403 });
  const file = path.endsWith("/") ? `${path}index.html` : path;
  try {
    const body = await Deno.readFile(`${root}${file}`);
    const ext = /\.[a-z]+$/.exec(file)?.[0] ?? "";
    return new Response(body, {
      headers: { "content-type": TYPES[ext] ?? "application/octet-stream", "cache-control": "no-store" },
    });
  } catch {
    return new Response(`not found: ${path}`, { status: 404 });
  }
}

/**
 * Serves the files under `root` on 127.0.0.1 (`port` 0: any free one).
 * `handle` may answer a request first (return undefined to fall through to the files).
 */
export function serveStatic(
  root: string,
  port = 0,
  handle?: (request: Request) => Promise<Response | undefined> | Response | undefined,
): StaticServer {
  const controller = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, signal: controller.signal, onListen: () => {} },
    async (request) => {
      const custom = await handle?.(request);
      if (custom) return custom;
      if (request.method !== "GET") return new Response("GET only", { status: 405 });
      return await fileResponse(root, decodeURIComponent(new URL(request.url).pathname));
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    close: async () => {
      controller.abort();
      await server.finished;
    },
  };
}

if (import.meta.main) {
  const root = Deno.args[0] ?? new URL(".", import.meta.url).pathname;
  const server = serveStatic(root.replace(/\/$/, ""), Number(Deno.args[1] ?? 8000));
  console.log(`serving ${root} at ${server.base}/`);
}
