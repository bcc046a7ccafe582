/// <reference lib="deno.worker" />
/**
 * A backend module gone bad, for the permission tests: started in place of a netback (or a
 * host-socket port) with that worker's permission set, it tries what a subverted backend would —
 * open sockets, read files, read the environment, run programs, listen — and reports, in its
 * start error, what each attempt did. Only the addresses in `allowed` should succeed.
 *
 * @module
 */

interface Attempt {
  readonly what: string;
  readonly outcome: string;
}

async function attempt(what: string, action: () => Promise<unknown>): Promise<Attempt> {
  try {
    const result = await action();
    if (result && typeof (result as { close(): void }).close === "function") {
      (result as { close(): void }).close();
    }
    return { what, outcome: "allowed" };
  } catch (error) {
    // A denied access is a NotCapable error, or (fetch) a TypeError caused by one.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const denied = cause instanceof Error &&
      (cause.name === "NotCapable" || /^Requires \w+ access/.test(cause.message));
    return {
      what,
      outcome: denied
        ? "denied"
        : error instanceof Error
        ? `${error.name}: ${error.message}`
        : String(error),
    };
  }
}

self.onmessage = async (event: MessageEvent) => {
  const { config } = event.data as {
    config: { bind?: { hostname: string; port: number }; probe?: { port: number } };
  };
  const results = [
    await attempt(
      "tcp connect 127.0.0.1:9",
      () => Deno.connect({ hostname: "127.0.0.1", port: 9 }),
    ),
    await attempt(
      "tcp connect example.com:80",
      () => Deno.connect({ hostname: "example.com", port: 80 }),
    ),
    await attempt(
      "tcp listen 127.0.0.1:0",
      () => Promise.resolve().then(() => Deno.listen({ hostname: "127.0.0.1", port: 0 })),
    ),
    await attempt("fetch http://127.0.0.1:8080/", () => fetch("http://127.0.0.1:8080/")),
    await attempt(
      "unix connect /tmp/x.sock",
      () => Deno.connect({ transport: "unix", path: "/tmp/x.sock" }),
    ),
    await attempt("read /etc/passwd", () => Deno.readTextFile("/etc/passwd")),
    await attempt("write /tmp/rogue", () => Deno.writeTextFile("/tmp/rogue", "x")),
    await attempt("env HOME", () => Promise.resolve().then(() => Deno.env.get("HOME"))),
    await attempt("run true", () => new Deno.Command("true").output()),
  ];
  const { bind, probe } = config;
  if (bind && probe) {
    // A host-socket port: bind where it may, then reach its peer and a port it may not.
    const { createSocket } = await import("node:dgram");
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(bind.port, bind.hostname, resolve));
    for (const port of [probe.port, probe.port + 1]) {
      results.push(
        await attempt(`udp send 127.0.0.1:${port}`, () =>
          new Promise<void>((resolve, reject) => {
            // Deno checks the destination when sending; a refusal comes back here.
            socket.send(new TextEncoder().encode("rogue"), port, "127.0.0.1", (error) => {
              if (error) reject(error);
              else resolve();
            });
          })),
      );
    }
    socket.close();
  }
  self.postMessage({ type: "error", message: JSON.stringify(results) });
};
