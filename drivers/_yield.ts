/**
 * Lets the event loop run once (timers due, messages from the supervisor), far sooner than
 * `setTimeout(0)`, which Deno delays by a millisecond or more: a message to ourselves on a
 * MessageChannel is a task of its own, queued behind whatever is already waiting.
 *
 * @module
 */

/** Resolves after one turn of the event loop. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
