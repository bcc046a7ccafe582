/**
 * Test support: drives a child process's console like a person at a terminal — waits for text to
 * appear, types lines, and collects everything printed. Used to talk to Linux's shell through
 * `deno task machine` (or QEMU) over pipes.
 *
 * Rules of use: {@link ConsoleSession.expect} waits for a pattern in the output that arrived after
 * the previous match, failing with the output so far when the time runs out; {@link
 * ConsoleSession.command} types a line and returns what was printed before the next prompt (the
 * echoed command line removed, `\r\n` turned into `\n`). Always `close()` (it kills the child).
 *
 * @module
 */

/** A child process whose stdin and stdout are a console. */
export class ConsoleSession {
  /** Everything the child printed so far. */
  output = "";
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #prompt: string;
  #consumed = 0;
  #waiters: (() => void)[] = [];
  #exited: Promise<Deno.CommandStatus>;

  /** Starts `command` with `args`; `prompt` is the shell prompt that ends each command's output. */
  constructor(command: string, args: string[], prompt: string) {
    this.#prompt = prompt;
    this.#child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    const decoder = new TextDecoder();
    const pump = async (stream: ReadableStream<Uint8Array>, into: "out" | "err") => {
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (into === "out") this.output += text;
        else this.errors += text;
        for (const wake of this.#waiters.splice(0)) wake();
      }
    };
    const done = Promise.all([
      pump(this.#child.stdout, "out"),
      pump(this.#child.stderr, "err"),
    ]);
    this.#exited = done.then(() => this.#child.status).finally(() => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** Everything the child wrote to stderr. */
  errors = "";

  /**
   * Waits until `pattern` appears in the output after the last match; returns the text from the
   * last match up to and including this one.
   */
  async expect(pattern: string | RegExp, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    let exited = false;
    this.#exited.then(() => exited = true);
    for (;;) {
      const rest = this.output.slice(this.#consumed);
      const found = typeof pattern === "string"
        ? (() => {
          const at = rest.indexOf(pattern);
          return at < 0 ? undefined : { index: at, length: pattern.length };
        })()
        : (() => {
          const m = rest.match(pattern);
          return m ? { index: m.index!, length: m[0].length } : undefined;
        })();
      if (found) {
        const end = this.#consumed + found.index + found.length;
        const text = this.output.slice(this.#consumed, end);
        this.#consumed = end;
        return text;
      }
      const left = deadline - performance.now();
      if (left <= 0 || exited) {
        throw new Error(
          `Did not see ${String(pattern)} ${exited ? "before the process exited" : "in time"}.\n` +
            `--- output ---\n${this.output.slice(-3000)}\n--- stderr ---\n${this.errors}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Types `text` followed by a newline. */
  async type(text: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(text + "\n"));
  }

  /** Types a command and returns its output (up to the next prompt, echo removed). */
  async command(line: string, timeoutMs = 30_000): Promise<string> {
    await this.type(line);
    const text = (await this.expect(this.#prompt, timeoutMs)).replaceAll("\r\n", "\n");
    const body = text.slice(0, text.length - this.#prompt.length);
    const echo = body.indexOf(line + "\n");
    return echo >= 0 ? body.slice(echo + line.length + 1) : body;
  }

  /** Waits for the process to end and returns its exit code. */
  async exitCode(timeoutMs: number): Promise<number> {
    const timeout = new Promise<never>((_, reject) => {
      const timer = setTimeout(
        () => reject(new Error("The process did not exit in time")),
        timeoutMs,
      );
      this.#exited.finally(() => clearTimeout(timer));
    });
    return (await Promise.race([this.#exited, timeout])).code;
  }

  /** Kills the child if it still runs and releases the pipes. */
  async close(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.#writer.close().catch(() => {});
    await this.#exited.catch(() => {});
  }
}
